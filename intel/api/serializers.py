"""Input and output of the intelligence API. Serializers validate input only; the services in
intel/services.py check the rules (STIX validation, sharing rules, sightings) and write.

The share serializers are the resources' own, so a share reads and is asked for alike in
both APIs.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from intel import stix
from intel.models import IntelShare, StixObject
from portal.api.errors import ErrorSerializer
from portal.vocabulary import TLP, DataCategory
from resources.api.serializers import ShareRequestSerializer, ShareSerializer

STIX_FORMAT, MISP_FORMAT = "stix", "misp"


class StixObjectSerializer(serializers.ModelSerializer):
    """One intelligence object: the facts of its newest version and, in the object's own
    answer (not in lists, where they are null), that version's STIX JSON and the times of
    all its versions."""

    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner_name = serializers.CharField(source="owner.name", read_only=True)
    stix = serializers.SerializerMethodField(
        help_text=_("The newest version, as stored; null in lists.")
    )
    versions = serializers.SerializerMethodField(
        help_text=_("The `modified` time of every version, newest first; null in lists.")
    )

    class Meta:
        model = StixObject
        fields = [
            "id",
            "stix_id",
            "type",
            "name",
            "tlp",
            "data_category",
            "owner",
            "owner_name",
            "modified",
            "revoked",
            "added_at",
            "stix",
            "versions",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {}, "nullable": True})
    def get_stix(self, obj) -> dict | None:
        if not self.context.get("detail"):
            return None
        newest = next((v for v in self._versions(obj) if v.is_last), None)
        return newest.data if newest is not None else {}

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_versions(self, obj) -> list[str] | None:
        if not self.context.get("detail"):
            return None
        return [stix.timestamp(v.modified) for v in self._versions(obj)]

    def _versions(self, obj) -> list:
        # The viewset prefetches the versions, newest first, into `all_versions`.
        prefetched = getattr(obj, "all_versions", None)
        if prefetched is None:
            prefetched = list(obj.versions.order_by("-modified"))
        return prefetched


@extend_schema_serializer(many=False)  # one bundle, even as the answer of a list action
class BundleSerializer(serializers.Serializer):
    """A STIX 2.1 bundle."""

    type = serializers.CharField(help_text="Always bundle.")
    id = serializers.CharField()
    objects = serializers.ListField(child=serializers.DictField())


@extend_schema_field(
    {
        "oneOf": [
            {"type": "object", "additionalProperties": {}},
            {"type": "array", "items": {}},
            {"type": "string"},
        ]
    }
)
class StixInputField(serializers.JSONField):
    """A bundle, an envelope, a list of objects or one object; or a string of their JSON."""


class ImportRequestSerializer(serializers.Serializer):
    """STIX (a bundle, a list or one object) or a MISP event, as JSON or a string of it."""

    bundle = StixInputField(
        help_text=_(
            "A STIX 2.1 bundle (or a list of objects, or one object) or, with format=misp, a "
            "MISP event: as JSON, or as a string holding the JSON."
        )
    )
    default_tlp = serializers.ChoiceField(
        choices=TLP.choices,
        default=TLP.AMBER,
        help_text=_("The TLP of objects that carry no TLP marking."),
    )
    data_category = serializers.ChoiceField(
        choices=DataCategory.choices, default=DataCategory.THREAT_INTELLIGENCE
    )
    format = serializers.ChoiceField(
        choices=[(STIX_FORMAT, "STIX 2.1"), (MISP_FORMAT, "MISP event")], default=STIX_FORMAT
    )


class ImportResultSerializer(serializers.Serializer):
    stored = serializers.ListField(
        child=serializers.CharField(), help_text=_("STIX ids that gained a version.")
    )
    unchanged = serializers.ListField(
        child=serializers.CharField(), help_text=_("STIX ids already held exactly like this.")
    )
    objects = StixObjectSerializer(many=True, help_text=_("The objects stored."))


class BundleRefusalSerializer(ErrorSerializer):
    """A refused import: nothing was stored; one problem per bad object."""

    problems = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("One line per bad object: its id (or its place), a colon, and why."),
    )


class IntelShareSerializer(ShareSerializer):
    class Meta(ShareSerializer.Meta):
        model = IntelShare


class IntelShareRequestSerializer(ShareRequestSerializer):
    with_references = serializers.BooleanField(
        default=False,
        help_text=_(
            "For a report or grouping: share the objects it references too, where the "
            "sharing rules allow each of them."
        ),
    )


class SightingRequestSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=999_999_999, default=1)
    first_seen = serializers.DateTimeField(required=False)
    last_seen = serializers.DateTimeField(required=False)
    anonymous = serializers.BooleanField(
        default=False, help_text=_("Do not name your organisation as where it was seen.")
    )
    tlp = serializers.ChoiceField(choices=TLP.choices, default=TLP.AMBER)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class SightingSummarySerializer(serializers.Serializer):
    """The sightings of one partner organisation (or the anonymous ones) of an object."""

    organisation = serializers.CharField(
        source="organisation.slug",
        read_only=True,
        allow_null=True,
        default=None,
        help_text=_("Short name of the organisation; null for anonymous sightings."),
    )
    organisation_name = serializers.CharField(
        source="organisation.name", read_only=True, allow_null=True, default=None
    )
    sightings = serializers.IntegerField(help_text=_("How many sightings were reported."))
    count = serializers.IntegerField(help_text=_("How many times it was seen, in all."))
    first_seen = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField(allow_null=True)


class CorrelatedOrganisationSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
