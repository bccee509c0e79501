"""Load the demo world: partner organisations from eight nations, with people in every role.

Idempotent: running it again creates only what is missing. Everything is created through the
services, so the demo's grants and audit trail are exactly what real use would produce.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import override_settings

from portal import demo, mfa, services
from portal.demo_mfa import demo_totp_secret, enrol_demo_totp
from portal.models import Organisation, OrganisationKind, Role

User = get_user_model()

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105  (printed on purpose: it is the demo)
STAFF_USERNAME = "operator"

ORGANISATIONS = [
    ("ee-csirt", "Estonian National CSIRT", "EE", OrganisationKind.NATIONAL_CSIRT),
    ("fi-ncsc", "Finnish National Cyber Security Centre", "FI", OrganisationKind.NATIONAL_CSIRT),
    ("de-bmds", "German Federal Ministry for Digital Security", "DE", OrganisationKind.GOVERNMENT),
    ("pl-cda", "Polish Cyberspace Defence Agency", "PL", OrganisationKind.DEFENCE),
    ("nl-tucl", "Delft University Cyber Lab", "NL", OrganisationKind.ACADEMIA),
    ("fr-sentinelle", "Sentinelle Sécurité SA", "FR", OrganisationKind.INDUSTRY),
    ("int-ccdc", "International Cyber Defence Centre", "BE", OrganisationKind.INTERNATIONAL_BODY),
    ("int-irp", "Independent Reviewers' Panel", "LU", OrganisationKind.INTERNATIONAL_BODY),
]

#: One person per role in every organisation, plus a member with no role.
PEOPLE = [
    ("admin", "Ada", "Admin", [Role.ORG_ADMIN]),
    ("pm", "Paul", "Manager", [Role.PROGRAMME_MANAGER]),
    ("signatory", "Sigrid", "Signer", [Role.SIGNATORY]),
    ("reviewer", "Rui", "Reviewer", [Role.REVIEWER]),
    ("member", "Mia", "Member", []),
]


class Command(BaseCommand):
    help = "Create (or complete) the demo organisations and accounts, and print the credentials."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never in production)."
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates known passwords; it refuses to run with "
                "DEBUG off. Use --force only on a throw-away database."
            )
        # Invitation emails of the demo people would only flood the console.
        quiet_mail = override_settings(
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
        )
        with quiet_mail, transaction.atomic():
            staff = self._staff()
            for slug, name, country, kind in ORGANISATIONS:
                organisation = self._organisation(staff, slug, name, country, kind)
                for suffix, first, last, roles in PEOPLE:
                    self._person(staff, organisation, suffix, first, last, roles)
            for _name, step in demo.steps():
                step(self.stdout.write)
        self._print_credentials()

    def _staff(self):
        staff = User.objects.filter(username=STAFF_USERNAME).first()
        if staff is None:
            staff = User.objects.create_superuser(
                STAFF_USERNAME, "operator@portal.example", DEMO_PASSWORD
            )
        enrol_demo_totp(staff)
        return staff

    def _organisation(self, staff, slug, name, country, kind) -> Organisation:
        existing = Organisation.objects.filter(slug=slug).first()
        if existing is not None:
            return existing
        return services.create_organisation(
            actor=staff,
            name=name,
            slug=slug,
            country=country,
            kind=kind,
            website=f"https://{slug}.example",
            description=f"{name}: a demo partner organisation.",
        )

    def _person(self, staff, organisation, suffix, first, last, roles) -> None:
        username = f"{organisation.slug}-{suffix}"
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            if mfa.roles_needing_mfa(existing):
                enrol_demo_totp(existing)
            return
        membership = services.invite_member(
            actor=staff,
            organisation=organisation,
            username=username,
            email=f"{suffix}@{organisation.slug}.example",
            first_name=first,
            last_name=last,
            roles=[role.value for role in roles],
            base_url="http://127.0.0.1:8000/",
        )
        # What the invited person would do with the emailed link.
        user = membership.user
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        if mfa.roles_needing_mfa(user):
            enrol_demo_totp(user)  # as they must before signing or administering

    def _print_credentials(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Every demo account's password: {DEMO_PASSWORD}")
        self.stdout.write(f"  {STAFF_USERNAME:<28} platform staff (admin site only)")
        for slug, name, country, _kind in ORGANISATIONS:
            people = ", ".join(f"{slug}-{suffix}" for suffix, *_ in PEOPLE)
            self.stdout.write(f"  {name} ({country}): {people}")
        self.stdout.write("")
        self.stdout.write(
            "Signatories, org admins and staff sign in with a second factor. Add these TOTP "
            "secrets to an authenticator app, or print the current code with "
            "`manage.py demo_code USERNAME`:"
        )
        usernames = [STAFF_USERNAME] + [
            f"{slug}-{suffix}"
            for slug, *_ in ORGANISATIONS
            for suffix, _first, _last, roles in PEOPLE
            if {role.value for role in roles} & set(settings.MFA_REQUIRED_ROLES)
        ]
        for username in usernames:
            self.stdout.write(f"  {username:<28} {demo_totp_secret(username)}")
