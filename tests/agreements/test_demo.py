"""The demo world has agreements in every state, and its grants match the policy."""

import datetime

from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from agreements.models import Agreement, AgreementKind, AgreementStatus
from portal import access


@override_settings(DEBUG=True)
def test_demo_agreements_cover_every_state_and_leave_no_drift(db):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent

    assert set(Agreement.objects.values_list("status", flat=True)) == set(AgreementStatus.values)
    assert set(Agreement.objects.values_list("kind", flat=True)) >= {
        AgreementKind.DATA_SHARING,
        AgreementKind.MOU,
        AgreementKind.JOINT_RD,
    }
    soon = timezone.localdate() + datetime.timedelta(days=30)
    assert Agreement.objects.filter(status="active", expires_on__lte=soon).exists()
    awaiting = Agreement.objects.get(status="awaiting_signatures")
    assert awaiting.parties.filter(signatories__username="pl-cda-signatory").exists()
    assert Agreement.objects.filter(supersedes__isnull=False, status="active").exists()
    assert access.reconcile(repair=False).clean
    call_command("verify_audit")
