"""The admin site is for platform staff to run organisations and accounts.

Every change goes through portal.services, so it is validated and audited like any other, for
the organisation it concerns. Partner content, grants, tokens, sessions, second factors and the
audit trail are absent: the operator of the portal does not read partners' content, and the
site declines every third-party app's registration (portal.admin_site). Staff never act as an
account's owner: no password, token or second factor is shown or set here, and the email
address a reset link goes to cannot be changed. They can send the owner that link, and switch
an account off.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal import services
from portal.forms import StaffInviteMemberForm
from portal.models import Membership, Organisation, Role

User = get_user_model()


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


class StaffInviteForm(StaffInviteMemberForm):
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
    actions = ["deactivate", "reactivate"]

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

    @admin.action(description=_("Deactivate the selected members (ends their sessions)"))
    def deactivate(self, request, queryset):
        for membership in queryset.select_related("user", "organisation"):
            _run(self, request, membership, services.deactivate_member, membership=membership)

    @admin.action(description=_("Reactivate the selected members"))
    def reactivate(self, request, queryset):
        for membership in queryset.select_related("user", "organisation"):
            _run(self, request, membership, services.reactivate_member, membership=membership)


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


class AccountForm(forms.ModelForm):
    class Meta:
        model = User
        fields = list(services.ACCOUNT_FIELDS_STAFF_CHANGE)


@admin.register(User)
class PortalUserAdmin(admin.ModelAdmin):
    """Accounts: staff see and name them, send their owner a reset link, or switch them off.

    There is no password, token or second factor here, and no set-password page; username
    and email are read-only, because a reset link goes to the email address. Accounts are
    created by invitation (the membership page) or `manage.py createsuperuser`; group
    membership and activation follow from memberships and the actions below.
    """

    form = AccountForm
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "organisation",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_staff", "is_active", "membership__organisation"]
    search_fields = ["username", "first_name", "last_name", "email"]
    list_select_related = ["membership__organisation"]
    ordering = ["username"]
    fieldsets = [
        (None, {"fields": ["username", "email"]}),
        (_("Name"), {"fields": list(services.ACCOUNT_FIELDS_STAFF_CHANGE)}),
        (
            _("Status"),
            {
                "fields": [
                    "organisation",
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "last_login",
                    "date_joined",
                ]
            },
        ),
    ]
    readonly_fields = [
        "username",
        "email",
        "organisation",
        "is_active",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
    ]
    actions = ["send_password_reset", "deactivate"]

    @admin.display(description=_("organisation"), ordering="membership__organisation__name")
    def organisation(self, user):
        membership = getattr(user, "membership", None)
        return membership.organisation if membership is not None else "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        services.update_account(actor=request.user, user=obj, **changes)

    def save_related(self, request, form, formsets, change):
        """Nothing related is edited here; the service saved everything."""

    @admin.action(description=_("Send a password reset email to the selected accounts"))
    def send_password_reset(self, request, queryset):
        for user in queryset:
            if _run(self, request, user, services.send_password_reset, user=user, request=request):
                self.message_user(
                    request,
                    _("Sent a password reset link to %(username)s's email address.")
                    % {"username": user.get_username()},
                )

    @admin.action(description=_("Deactivate the selected accounts (ends their sessions)"))
    def deactivate(self, request, queryset):
        for user in queryset:
            _run(self, request, user, services.deactivate_account, user=user)


def _run(model_admin, request, obj, service, /, **kwargs) -> bool:
    """Call a service for one object of an admin action; its refusal becomes a message."""
    try:
        service(actor=request.user, **kwargs)
    except (ValidationError, PermissionDenied) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        model_admin.message_user(request, f"{obj}: {text}", messages.ERROR)
        return False
    return True
