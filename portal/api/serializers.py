from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from rest_framework import serializers

from portal import access
from portal.models import Membership, Organisation


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's, refusing a NUL byte as an invalid name: PostgreSQL cannot even compare text
    with one, so the lookup would be a server error."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class VisibleRelatedMixin:
    """For serializers that name a related protected object (an agreement's id, reference or
    title): `may_see` says whether the reader may see it, so its names are shown only then.

    Visibility is looked up once for all the rows being serialized (a page of a list), not
    once per row.
    """

    def may_see(self, model: type[Model], pk, related_id: Callable[[object], object]) -> bool:
        """Whether the request's user may see model #pk; related_id(row) gives each row's."""
        if pk is None:
            return False
        known = self.context.setdefault("_visible_related", {}).setdefault(model, {})
        if pk not in known:
            rows = self.instance if isinstance(self.instance, list | tuple | QuerySet) else []
            wanted = ({related_id(row) for row in rows} | {pk}) - set(known) - {None}
            request = self.context.get("request")
            visible = set(
                access.visible_to(
                    getattr(request, "user", None), model._default_manager.filter(pk__in=wanted)
                ).values_list("pk", flat=True)
            )
            known.update({key: key in visible for key in wanted})
        return known[pk]


class OrganisationSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    country_name = serializers.CharField(source="country.name", read_only=True)
    # Declared so the schema admits the empty value an organisation without a site has.
    website = serializers.URLField(read_only=True, allow_blank=True)

    class Meta:
        model = Organisation
        fields = ["id", "slug", "name", "country", "country_name", "kind", "website", "description"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "name", "email", "job_title", "roles", "is_active"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    organisation = OrganisationSerializer(source="membership.organisation", read_only=True)
    roles = serializers.ListField(
        child=serializers.CharField(), source="membership.roles", read_only=True
    )
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = get_user_model()
        # No id: a user's id is sequential (Django's auth model) and would count every
        # nation's accounts. The API names people by username everywhere.
        fields = ["username", "name", "email", "organisation", "roles"]
        read_only_fields = fields


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        help_text="The code from the authenticator app; required once it is set up.",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    username = serializers.CharField()


class AuditHeadSerializer(serializers.Serializer):
    """The audit trail's latest event, signed by the portal: keep it, and check it later with
    `manage.py verify_audit --head FILE`."""

    format = serializers.CharField(
        read_only=True, help_text="Always cooperation-portal-audit-head/2."
    )
    event_id = serializers.IntegerField(read_only=True, help_text="The latest event's id.")
    seal = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        read_only=True,
        help_text="SHA-256, in hex, of the format, a colon and the latest event's chain hash: "
        "proof that the event still has that hash, which cannot be chained on to confirm "
        "guesses about other events.",
    )
    created_at = serializers.DateTimeField(
        read_only=True, help_text="When the latest event was recorded (UTC, ISO 8601)."
    )
    signed_at = serializers.DateTimeField(
        read_only=True, help_text="When the portal signed this head (UTC, ISO 8601)."
    )
    key_id = serializers.CharField(
        read_only=True,
        help_text="The id of the portal's signing key, as published at "
        "/.well-known/portal-signing-key (X-Key-Id).",
    )
    signature = serializers.CharField(
        read_only=True,
        help_text="Base64 Ed25519 signature over the compact, sorted-key UTF-8 JSON of every "
        "other field of this object.",
    )
