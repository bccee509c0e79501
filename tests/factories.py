"""Factories that build the world through the services, as real use would."""

import factory
from django.contrib.auth import get_user_model

from portal import services
from portal.models import Organisation, OrganisationKind

User = get_user_model()
PASSWORD = "correct-horse-battery-staple"


def platform_staff():
    """The platform operator the factories act as (created once per test database)."""
    staff = User.objects.filter(username="factory-staff").first()
    if staff is None:
        staff = User.objects.create_superuser("factory-staff", "staff@portal.example", PASSWORD)
    return staff


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

    @classmethod
    def _create(cls, model_class, organisation, roles, **kwargs):
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
        return user
