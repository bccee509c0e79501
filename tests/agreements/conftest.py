"""Agreement fixtures, built through the services like everything else."""

import datetime

import pytest
from django.utils import timezone

from agreements import services
from portal.reauth import Reauthentication
from tests.factories import designate_signatories


def fresh_reauth() -> Reauthentication:
    return Reauthentication(timezone.now(), "password")


def draft_between(world, *organisations, **terms):
    """A's programme manager drafts; every other party designates its own signatories."""
    today = timezone.localdate()
    values = {
        "title": "Bilateral threat intelligence exchange",
        "kind": "data_sharing",
        "purpose": "Exchange indicators of compromise between the national CSIRTs.",
        "body": "# Terms\n\nThe parties share indicators under TLP.",
        "effective_from": today,
        "expires_on": today + datetime.timedelta(days=365),
        "data_categories": ["threat_intelligence", "incidents"],
        "tlp_ceiling": "amber",
    }
    values.update(terms)
    parties = organisations or (world.a, world.b)
    agreement = services.create_agreement(actor=world.a_pm, parties=parties, **values)
    return designate_signatories(agreement)


def sign_by_all(world, agreement):
    """Every designated signatory of every party signs (A's admin holds A's signatory role)."""
    for party in agreement.parties.all():
        for user in party.signatories.all()[: party.required_signatures]:
            services.sign(actor=user, agreement=agreement, reauthentication=fresh_reauth())
    agreement.refresh_from_db()
    return agreement


@pytest.fixture
def draft(people):
    return draft_between(people)


@pytest.fixture
def active(people):
    agreement = draft_between(people)
    services.submit(actor=people.a_pm, agreement=agreement)
    return sign_by_all(people, agreement)
