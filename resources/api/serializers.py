"""Input and output of the resources API. Serializers validate input only; the services in
resources/services.py check the rules (upload checks, sharing rules) and write."""

from rest_framework import serializers

from agreements.models import Agreement
from portal import access
from portal.api.serializers import SlugRelatedField, VisibleRelatedMixin
from portal.models import Organisation
from portal.vocabulary import TLP, DataCategory
from resources.models import Resource, ResourceKind, ResourceVersion, Share


class VersionSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)

    class Meta:
        model = ResourceVersion
        fields = [
            "number",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "note",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields


class ResourceSerializer(serializers.ModelSerializer):
    """A resource's metadata. Only title, description, kind, data category, TLP and tags are
    writable (through services.update_resource); anything else sent is ignored."""

    kind = serializers.ChoiceField(choices=ResourceKind.choices)
    data_category = serializers.ChoiceField(choices=DataCategory.choices)
    tlp = serializers.ChoiceField(choices=TLP.choices, required=False)
    owner = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner_name = serializers.CharField(source="owner.name", read_only=True)
    owner_country = serializers.CharField(source="owner.country.code", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20, required=False
    )
    # One nested serializer for every row of a page, not one built per row.
    latest_version = VersionSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Resource
        fields = [
            "id",
            "title",
            "description",
            "kind",
            "data_category",
            "tlp",
            "tags",
            "owner",
            "owner_name",
            "owner_country",
            "created_by",
            "created_at",
            "updated_at",
            "latest_version",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ResourceCreateSerializer(ResourceSerializer):
    """A new resource and its first file, sent as multipart/form-data."""

    # Empty files reach the service, which refuses them in the same words as the web form.
    file = serializers.FileField(write_only=True, allow_empty_file=True, max_length=255)
    note = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500)

    class Meta(ResourceSerializer.Meta):
        fields = [*ResourceSerializer.Meta.fields, "file", "note"]


class VersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, max_length=255)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ShareSerializer(VisibleRelatedMixin, serializers.ModelSerializer):
    agreement = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    agreement_label = serializers.CharField(
        source="agreement.label", read_only=True, allow_null=True
    )
    recipient = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)
    recipient_users = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    shared_by = serializers.CharField(source="shared_by.username", read_only=True)
    live = serializers.SerializerMethodField(
        help_text="In effect today: active, under an agreement in force."
    )

    class Meta:
        model = Share
        fields = [
            "id",
            "agreement",
            "agreement_label",
            "recipient",
            "recipient_name",
            "recipient_users",
            "status",
            "live",
            "shared_by",
            "shared_at",
            "ended_at",
            "end_reason",
        ]
        read_only_fields = fields

    def to_representation(self, share):
        data = super().to_representation(share)
        # Sharing needs the owner to be a party, so this holds today; it is checked all the
        # same, so that no serializer names an agreement its reader may not see.
        if not self.may_see(Agreement, share.agreement_id, lambda s: s.agreement_id):
            data["agreement"] = data["agreement_label"] = None
        return data

    def get_live(self, share) -> bool:
        live_ids = self.context.get("live_share_ids")
        return share.pk in live_ids if live_ids is not None else share.is_live()


class ShareRequestSerializer(serializers.Serializer):
    """Whom to share with, under which agreement; named people and the sharer's password
    where the TLP calls for them (the view and the service check that)."""

    agreement = serializers.PrimaryKeyRelatedField(
        queryset=Agreement.objects.none(),
        pk_field=serializers.IntegerField(),  # an id, not 1.5 read as 1
        help_text="Id of an agreement in force.",
    )
    recipient = SlugRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.filter(is_active=True),
        help_text="Short name of the recipient organisation.",
    )
    recipient_users = serializers.ListField(
        child=serializers.CharField(max_length=150),
        required=False,
        max_length=100,
        help_text="TLP:RED only: usernames of the recipient's people who may see it.",
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Required for TLP:RED and TLP:AMBER+STRICT.",
    )
    otp = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=12)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # An agreement the sharer cannot see answers like one that does not exist.
            self.fields["agreement"].queryset = access.visible_to(
                request.user, Agreement.objects.all()
            )

    def validate(self, data):
        # Names stay names: the service resolves them only after the sharing rules hold, so
        # nobody learns who belongs to an organisation they may not share with.
        data["recipient_users"] = list(dict.fromkeys(data.get("recipient_users") or []))
        return data


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class AccessLogRowSerializer(serializers.Serializer):
    """One line of the access report (resources/reports.py)."""

    time = serializers.DateTimeField(help_text="UTC.")
    user = serializers.CharField()
    organisation = serializers.CharField()
    organisation_slug = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code of the nation.")
    country_name = serializers.CharField()
    action = serializers.CharField()
    action_label = serializers.CharField()
    resource_id = serializers.IntegerField(allow_null=True)
    resource = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField()
    agreement = serializers.CharField()
    detail = serializers.CharField()
