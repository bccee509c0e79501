"""The admin site is for platform staff to run organisations and accounts.

Every change goes through portal.services, so it is validated and audited like any other.
Partner content, grants, tokens and the audit trail are absent: the operator of the portal
does not read partners' content.
"""

from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework.authtoken.models import TokenProxy

from portal import services
from portal.forms import InviteMemberForm
from portal.models import Membership, Organisation, Role

User = get_user_model()

for model in (TokenProxy, Authenticator):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "kind", "is_active"]
    list_filter = ["kind", "country", "is_active"]
    search_fields = ["name", "slug"]
    fields = ["name", "slug", "country", "kind", "website", "description", "is_active"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            services.update_organisation(actor=request.user, organisation=obj, **changes)
        else:
            data = {k: v for k, v in form.cleaned_data.items() if k != "is_active"}
            created = services.create_organisation(actor=request.user, **data)
            obj.pk, obj.group_id = created.pk, created.group_id

    def has_delete_permission(self, request, obj=None):
        return False


class StaffInviteForm(InviteMemberForm):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.filter(is_active=True))

    field_order = ["organisation"]

    class Meta:
        model = Membership
        fields = []


class MembershipChangeForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = list(Role.values)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "organisation",
        "org_admin",
        "programme_manager",
        "signatory",
        "reviewer",
    ]
    list_filter = ["organisation", "org_admin", "programme_manager", "signatory", "reviewer"]
    search_fields = ["user__username", "user__email", "organisation__name"]
    list_select_related = ["user", "organisation"]
    actions = ["deactivate"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return _bound_invite_form(request)
        kwargs["form"] = MembershipChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": list(StaffInviteForm.base_fields)})]
        return [(None, {"fields": list(Role.values)})]

    def save_model(self, request, obj, form, change):
        if change:
            roles = [role for role in Role.values if form.cleaned_data.get(role)]
            services.change_member_roles(actor=request.user, membership=obj, roles=roles)
        else:
            data = dict(form.cleaned_data)
            created = services.invite_member(
                actor=request.user, base_url=request.build_absolute_uri("/"), **data
            )
            obj.pk, obj.user, obj.organisation = created.pk, created.user, created.organisation

    def save_related(self, request, form, formsets, change):
        """Nothing related is edited here; the service saved everything."""

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Deactivate the selected members (ends their sessions)")
    def deactivate(self, request, queryset):
        for membership in queryset.select_related("user", "organisation"):
            try:
                services.deactivate_member(actor=request.user, membership=membership)
            except ValidationError as error:
                self.message_user(
                    request, f"{membership}: {' '.join(error.messages)}", messages.ERROR
                )


def _bound_invite_form(request):
    """The admin instantiates its form with instance=...; the invite form takes no instance."""

    class AdminInviteForm(StaffInviteForm):
        def __init__(self, *args, instance=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.instance = instance if instance is not None else Membership()

        def save(self, commit=True):
            return self.instance

        def save_m2m(self):
            pass

    return AdminInviteForm


class PortalUserAdmin(UserAdmin):
    """Staff edit identities; group membership and activation follow from memberships."""

    readonly_fields = ["groups", "user_permissions", "is_active", "last_login", "date_joined"]


admin.site.unregister(User)
admin.site.register(User, PortalUserAdmin)
admin.site.site_header = "Cooperation Portal administration"
admin.site.site_title = "Cooperation Portal"
