"""WSGI entry point: `gunicorn portal.wsgi`."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# What start-up loaded (Django, the apps, their models) lives as long as the worker: keep it
# out of the cyclic collector's walks, which then cost what requests left behind, not the
# few hundred thousand objects of start-up (a 100-300 ms pause, now and then, otherwise).
gc.freeze()
