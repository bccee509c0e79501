"""Test settings: the real settings, with a throw-away key and a fast password hasher."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
# Uploaded files of a test run go to a throw-away folder, never into the project's var/; one
# of its own for each pytest-xdist worker. The workers inherit the controller's environment,
# so a folder made there would be shared, and a test that checks which files its upload wrote
# would see another worker's.
_files = os.environ.setdefault(
    "PRIVATE_STORAGE_ROOT", tempfile.mkdtemp(prefix="portal-test-files-")
)
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.path.basename(_files) != _worker:
    os.environ["PRIVATE_STORAGE_ROOT"] = os.path.join(_files, _worker)
    os.makedirs(os.environ["PRIVATE_STORAGE_ROOT"], exist_ok=True)

from portal.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
WHITENOISE_USE_FINDERS = True
# whitenoise warns when STATIC_ROOT is missing; tests serve static files from the finders.
# Under pytest-xdist each worker (gw0, gw1, ...) has its own files: two workers must not write
# the same signing key at once. Their databases are their own too: pytest-django names
# PostgreSQL's test_portal_gw0, ...; SQLite's test database lives in each process's memory.
TEST_FILES = VAR_DIR / f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"  # noqa: F405
STATIC_ROOT = TEST_FILES / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# A throw-away evidence signing key, generated on first use.
PORTAL_SIGNING_KEY_AUTOGENERATE = True
PORTAL_SIGNING_KEY_FILE = TEST_FILES / "signing-key.pem"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # A test database is thrown away: its commits need not wait for the disk. The tests that
    # commit (live server, migrations, parallel writers) run several times faster.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405
