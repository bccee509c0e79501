from django.contrib.auth import get_user_model
from rest_framework import serializers

from portal.models import Membership, Organisation


class OrganisationSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    country_name = serializers.CharField(source="country.name", read_only=True)

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
        fields = ["id", "username", "name", "email", "organisation", "roles"]
        read_only_fields = fields
