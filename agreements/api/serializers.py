from rest_framework import serializers

from agreements.models import Agreement, Party
from agreements.services import TERM_FIELDS
from portal.api.serializers import SlugRelatedField, VisibleRelatedMixin
from portal.models import Organisation
from portal.vocabulary import DataCategory


class PartySerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    signatories = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Party
        fields = [
            "organisation",
            "organisation_name",
            "required_signatures",
            "signatories",
            "legal_contact",
            "technical_contact",
            "incident_contact",
        ]
        read_only_fields = fields


class PartyDesignationSerializer(serializers.Serializer):
    """What a party's own programme manager sets for it: who signs, how many, its contacts."""

    signatories = serializers.ListField(
        child=serializers.CharField(max_length=150),
        required=False,
        max_length=50,
        help_text="Usernames of your organisation's signatories who may sign for it.",
    )
    required_signatures = serializers.IntegerField(min_value=1, max_value=20, required=False)
    legal_contact = serializers.CharField(max_length=200, required=False, allow_blank=True)
    technical_contact = serializers.CharField(max_length=200, required=False, allow_blank=True)
    incident_contact = serializers.CharField(max_length=200, required=False, allow_blank=True)


class SignatureSerializer(serializers.Serializer):
    user = serializers.CharField(source="user.username")
    organisation = serializers.CharField(source="organisation.slug")
    signed_at = serializers.DateTimeField()
    content_hash = serializers.CharField()
    method = serializers.CharField()
    voided = serializers.SerializerMethodField()

    def get_voided(self, signature) -> bool:
        return signature.voided_at is not None


class AgreementSerializer(VisibleRelatedMixin, serializers.ModelSerializer):
    """Terms are writable while a draft (through the services); lifecycle fields never are."""

    parties = SlugRelatedField(
        slug_field="slug",
        many=True,
        queryset=Organisation.objects.filter(is_active=True),
        write_only=True,
        help_text="Short names of the party organisations, yours included.",
    )
    party_details = PartySerializer(source="parties", many=True, read_only=True)
    signatures = SignatureSerializer(many=True, read_only=True)
    data_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), required=False
    )

    class Meta:
        model = Agreement
        fields = [
            "id",
            "reference",
            "version",
            "status",
            "content_hash",
            "supersedes",
            *TERM_FIELDS,
            "parties",
            "party_details",
            "signatures",
            "submitted_at",
            "signed_at",
            "activated_at",
            "ended_at",
            "termination_effective_on",
            "termination_reason",
        ]
        read_only_fields = [
            "id",
            "reference",
            "version",
            "status",
            "content_hash",
            "supersedes",
            "submitted_at",
            "signed_at",
            "activated_at",
            "ended_at",
            "termination_effective_on",
            "termination_reason",
        ]

    def to_representation(self, agreement):
        data = super().to_representation(agreement)
        data["parties"] = [p.organisation.slug for p in agreement.parties.all()]
        # A party added by an amendment may not see the version it amends.
        if not self.may_see(Agreement, agreement.supersedes_id, lambda a: a.supersedes_id):
            data["supersedes"] = None
        return data


class ReauthenticationSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    otp = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=12)


class DeclineSerializer(ReauthenticationSerializer):
    reason = serializers.CharField(max_length=2000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class TerminateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    effective_on = serializers.DateField()
