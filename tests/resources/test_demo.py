"""The demo has resources at every TLP level, shared under the demo agreements."""

import datetime

from django.core.management import call_command
from django.utils import timezone

from portal import access
from portal.vocabulary import TLP
from resources.models import Resource, Share


def test_demo_resources_cover_every_tlp_and_one_rides_on_the_expiring_agreement(
    db, settings, tmp_path
):
    # One settings fixture for both changes: mixing it with override_settings leaks DEBUG.
    settings.DEBUG = True
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent

    assert set(Resource.objects.values_list("tlp", flat=True)) == set(TLP.values)
    assert Resource.objects.values("kind").distinct().count() >= 5
    soon = timezone.localdate() + datetime.timedelta(days=30)
    assert Share.objects.live().filter(agreement__expires_on__lte=soon).exists()
    red = Share.objects.get(resource__tlp=TLP.RED)
    assert red.recipient_users.count() == 2
    assert access.reconcile(repair=False).clean
