"""Factories that build the world through the services, as real use would."""

import factory
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.contrib.auth import get_user_model

from portal import services
from portal.models import Organisation, OrganisationKind

User = get_user_model()
PASSWORD = "correct-horse-battery-staple"


def platform_staff():
    """The platform operator the factories act as (created once per test database), with an
    authenticator app as every staff member must have."""
    staff = User.objects.filter(username="factory-staff").first()
    if staff is None:
        staff = User.objects.create_superuser("factory-staff", "staff@portal.example", PASSWORD)
        enrol_totp(staff)
    return staff


def enrol_totp(user, secret: str | None = None) -> str:
    """Give user an authenticator app, as they would on the two-factor page; returns the
    secret."""
    secret = secret or generate_totp_secret()
    TOTP.activate(user, secret)
    user.__dict__.pop("_mfa_enrolled", None)
    return secret


def totp_code(user) -> str:
    """The code user's authenticator app shows right now."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = get_mfa_adapter().decrypt(authenticator.data["secret"])
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


class OrganisationFactory(factory.Factory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Partner Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    country = "EE"
    kind = OrganisationKind.NATIONAL_CSIRT

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.create_organisation(actor=platform_staff(), **kwargs)


class UserFactory(factory.Factory):
    """A member of an organisation, invited through the service, with a usable password."""

    class Meta:
        model = User

    organisation = factory.SubFactory(OrganisationFactory)
    username = factory.Sequence(lambda n: f"person-{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@{o.organisation.slug}.example")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    roles = ()
    #: None: enrolled in two-factor authentication when a role requires it, as in real use.
    mfa = None

    @classmethod
    def _create(cls, model_class, organisation, roles, mfa, **kwargs):
        membership = services.invite_member(
            actor=platform_staff(),
            organisation=organisation,
            roles=roles,
            base_url="http://testserver/",
            **kwargs,
        )
        user = membership.user
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        if mfa or (mfa is None and set(roles) & set(settings.MFA_REQUIRED_ROLES)):
            enrol_totp(user)
        return user


def designate_signatories(agreement, **details):
    """Each party that has not designated yet does, through its own programme manager, as in
    real use: its active signatories sign for it. A party without signatories is left as is
    (submission then names it); one with signatories but no programme manager is a fixture
    that cannot happen in real use, and fails loudly."""
    from agreements import services as agreement_services

    for party in agreement.parties.select_related("organisation").prefetch_related("signatories"):
        memberships = party.organisation.memberships.filter(user__is_active=True)
        eligible = [m.user for m in memberships.filter(signatory=True).select_related("user")]
        if party.signatories.all() or not eligible:
            continue
        manager = memberships.filter(programme_manager=True).select_related("user").first()
        if manager is None:
            raise AssertionError(
                f"{party.organisation.slug} has signatories but no programme manager to "
                "designate them: add one to the fixture."
            )
        agreement_services.update_party(
            actor=manager.user, party=party, signatories=eligible, **details
        )
    return agreement
