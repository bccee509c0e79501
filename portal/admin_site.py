"""The admin site: staff sign in where everyone does, act only with a second factor, and never
reach a secret or a write that bypasses the services.

- Only this project's code registers admins here. A third-party app's own registration
  (allauth's user sessions and email addresses, DRF's tokens, Django's groups ...) is declined,
  so an installed package cannot bring a page of secrets, or a write around the services, into
  the admin by itself.
- Every registered ModelAdmin is guarded by `SecretGuard`: a filter, search, ordering, column,
  form field or `_to_field` that reaches a secret (see portal.secret_fields) is refused whatever
  value it carries, so a right guess and a wrong guess get the same refusal. The system check
  `portal.E100` stops the site at startup when an admin's configuration names one.
- Nothing is deleted through the admin unless its admin deletes through a service, and an admin
  that can add or change must save through a service (`portal.E102`): the services audit.
- "View on site" redirects only for the admin's own models: for any other model it would tell
  staff which hidden agreements or resources exist.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import BaseModelAdmin, ModelAdmin
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, PermissionDenied
from django.db.models import F, OrderBy
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from portal import mfa, secret_fields

#: The options of a ModelAdmin (and its inlines) that name fields or lookup paths.
NAMING_OPTIONS = (
    "list_display",
    "list_display_links",
    "list_filter",
    "list_editable",
    "search_fields",
    "ordering",
    "sortable_by",
    "date_hierarchy",
    "fields",
    "fieldsets",
    "readonly_fields",
    "raw_id_fields",
    "autocomplete_fields",
    "filter_horizontal",
    "filter_vertical",
    "radio_fields",
    "prepopulated_fields",
)


class PortalAdminSite(admin.AdminSite):
    site_header = "Cooperation Portal administration"
    site_title = "Cooperation Portal"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: Registrations declined because they come from outside the project: {model: admin}.
        self.declined: dict = {}
        # A bulk delete bypasses every service, and with it the audit trail.
        self.disable_action("delete_selected")

    def register(self, model_or_iterable, admin_class=None, **options):
        """Register the project's own admins, each guarded; decline everyone else's."""
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else model_or_iterable
        for model in models:
            if not _is_project_code(admin_class or model):
                self.declined[model] = admin_class
                continue
            base = admin_class or ModelAdmin
            guarded = type(base.__name__, (SecretGuard, base), {"__module__": base.__module__})
            super().register(model, guarded, **options)

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and mfa.may_act_as(request.user, mfa.STAFF)

    def login(self, request, extra_context=None):
        """No password form of its own: the portal's sign-in, with its throttling and second
        factor, is the only way in."""
        user, target = request.user, request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            target = reverse("admin:index")
        if not user.is_authenticated:
            return redirect_to_login(target, settings.LOGIN_URL)
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        if not mfa.may_act_as(user, mfa.STAFF):
            messages.warning(request, mfa.enrolment_message(mfa.STAFF))
            return redirect("mfa_index")
        return redirect(target)

    def password_change(self, request, extra_context=None):
        """Staff change their own password where everyone does, re-authenticated and audited."""
        return redirect("account_change_password")

    def password_change_done(self, request, extra_context=None):
        return redirect("account_change_password")

    def get_urls(self):
        urls = [url for url in super().get_urls() if getattr(url, "name", "") != "view_on_site"]
        view_on_site = path(
            "r/<path:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site),
            name="view_on_site",
        )
        return [view_on_site, *urls]

    def view_on_site(self, request, content_type_id, object_id):
        """Django's "view on site" redirect, for objects of the admin's own models only; any
        other model is a 404 whether or not the object exists."""
        content_type = ContentType.objects.filter(pk=_int_or_none(content_type_id)).first()
        model = content_type.model_class() if content_type else None
        if model is None or model not in self._registry:
            raise Http404(_("There is no such page in the admin."))
        return contenttype_views.shortcut(request, content_type_id, object_id)

    def check(self, app_configs):
        errors = super().check(app_configs)
        for model_admin in self._registry.values():
            errors.extend(secret_errors(model_admin))
            errors.extend(service_errors(model_admin))
        return errors


class SecretGuard:
    """Mixed into every ModelAdmin of the site: nothing it lists, filters, searches, orders by,
    shows or refers to reaches a secret, whatever the request asks."""

    def lookup_allowed(self, lookup, value, request=None):
        # Refused before the value is looked at: every guess gets the same 400.
        if secret_fields.secret_reached(self.model, lookup) is not None:
            return False
        return super().lookup_allowed(lookup, value, request)

    def to_field_allowed(self, request, to_field):
        if secret_fields.secret_reached(self.model, to_field) is not None:
            return False
        return super().to_field_allowed(request, to_field)

    def has_delete_permission(self, request, obj=None):
        if type(self).delete_model is ModelAdmin.delete_model:
            return False  # it would delete without a service, so without an audit event
        return super().has_delete_permission(request, obj)

    def get_list_display(self, request):
        return _refuse_secrets(self, "list_display", super().get_list_display(request))

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        return _refuse_secrets(self, "list_display_links", links)

    def get_list_filter(self, request):
        return _refuse_secrets(self, "list_filter", super().get_list_filter(request))

    def get_search_fields(self, request):
        return _refuse_secrets(self, "search_fields", super().get_search_fields(request))

    def get_ordering(self, request):
        return _refuse_secrets(self, "ordering", super().get_ordering(request))

    def get_sortable_by(self, request):
        return _refuse_secrets(self, "sortable_by", super().get_sortable_by(request))

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return _refuse_secrets(self, "readonly_fields", fields)

    def get_fieldsets(self, request, obj=None):
        return _refuse_secrets(self, "fieldsets", super().get_fieldsets(request, obj))


def secret_errors(model_admin) -> list[checks.Error]:
    """System-check errors for every option of an admin (and its inlines) that reaches a
    secret, and for a model whose primary key is one (its URLs would show it)."""
    errors = []
    for owner in [model_admin, *_inlines(model_admin)]:
        model = owner.model
        if secret_fields.is_secret(model._meta.pk):
            errors.append(
                checks.Error(
                    f"{model._meta.label}'s primary key is a secret; it cannot be in the admin.",
                    obj=type(owner),
                    id="portal.E101",
                )
            )
        for option in NAMING_OPTIONS:
            for problem in secret_problems(owner, option, getattr(owner, option, None)):
                errors.append(checks.Error(problem, obj=type(owner), id="portal.E100"))
        if not owner.ordering:
            for problem in secret_problems(owner, "ordering", model._meta.ordering):
                errors.append(checks.Error(problem, obj=type(owner), id="portal.E100"))
        for problem in secret_problems(owner, "form", _form_fields(owner)):
            errors.append(checks.Error(problem, obj=type(owner), id="portal.E100"))
    return errors


def service_errors(model_admin) -> list[checks.Error]:
    """An admin that can add or change must save through a service: Django's own save_model
    writes the row directly and records nothing in the audit trail."""
    cls = type(model_admin)
    can_write = (
        cls.has_add_permission is BaseModelAdmin.has_add_permission
        or cls.has_change_permission is BaseModelAdmin.has_change_permission
    )
    if can_write and cls.save_model is ModelAdmin.save_model:
        return [
            checks.Error(
                f"{cls.__name__} saves without a service; override save_model to call one "
                "(it audits), or refuse add and change.",
                obj=cls,
                id="portal.E102",
            )
        ]
    return []


def secret_problems(model_admin, option: str, values) -> list[str]:
    """What, in one option's value, reaches a secret of the admin's model (empty: nothing)."""
    model = model_admin.model
    problems = []
    for name in _names(model_admin, option, values):
        reached = _reaches(model, name)
        if reached:
            problems.append(
                f"{type(model_admin).__name__}.{option} names {name!r}, which reaches the "
                f"secret {reached}; no admin page may list, filter, search, order by or show it."
            )
    return problems


def _refuse_secrets(model_admin, option: str, values):
    problems = secret_problems(model_admin, option, values)
    if problems:
        raise ImproperlyConfigured(" ".join(problems))
    return values


def _reaches(model, name: str) -> str:
    """The secret a name reaches, described; "" for none. A name that is no field of the
    model (a method, a form field) is judged by its words."""
    field = secret_fields.secret_reached(model, name)
    if field is not None:
        return secret_fields.label(field)
    first = name.split("__")[0]
    try:
        model._meta.pk if first == "pk" else model._meta.get_field(first)
    except FieldDoesNotExist:
        if secret_fields.name_says_secret(name):
            return f"{name!r} (its name says it is a secret)"
    return ""


def _names(model_admin, option: str, values) -> list[str]:
    """The field names and lookup paths in an option's value, whatever its shape."""
    if not values:
        return []
    if option == "fieldsets":
        values = [name for _, opts in values for name in opts.get("fields", ())]
    elif option in ("radio_fields",):
        values = list(values)
    elif option == "prepopulated_fields":
        values = [*values, *(name for sources in values.values() for name in sources)]
    elif isinstance(values, str):
        values = [values]
    names = []
    for value in values:
        names.extend(_names_in(model_admin, option, value))
    return names


def _names_in(model_admin, option: str, value) -> list[str]:
    if isinstance(value, list | tuple):  # a row of fields, or (path, FilterClass)
        if option == "list_filter":
            return _names_in(model_admin, option, value[0])
        return [n for item in value for n in _names_in(model_admin, option, item)]
    if isinstance(value, OrderBy):
        value = value.expression
    if isinstance(value, F):
        return [value.name]
    if isinstance(value, str):
        if option == "search_fields":
            return [value.lstrip("^=@")]
        if option == "ordering":
            return [value.lstrip("-?")] if value != "?" else []
        display = getattr(model_admin, value, None)
        if option == "list_display" and callable(display):
            return [value, *_order_field(model_admin, display)]
        return [value]
    if callable(value) and option == "list_display":
        return _order_field(model_admin, value)
    return []  # a SimpleListFilter class: its own code decides what it filters by


def _order_field(model_admin, display) -> list[str]:
    order = getattr(display, "admin_order_field", None)
    if order is None:
        return []
    return _names_in(model_admin, "ordering", order)


def _form_fields(model_admin) -> list[str]:
    """The fields the admin's form declares, and, when the admin names none, every editable
    field of the model, as Django's default form shows them."""
    names = list(getattr(model_admin.form, "declared_fields", {}))
    if not (model_admin.fields or model_admin.fieldsets):
        opts = model_admin.model._meta
        excluded = set(model_admin.exclude or ())
        names += [
            field.name
            for field in [*opts.concrete_fields, *opts.many_to_many]
            if field.editable and not field.auto_created and field.name not in excluded
        ]
    return names


def _inlines(model_admin) -> list:
    return [inline(model_admin.model, model_admin.admin_site) for inline in model_admin.inlines]


def _is_project_code(obj) -> bool:
    """Whether a class comes from this project (a package right under BASE_DIR), not from an
    installed package."""
    module = sys.modules.get(obj.__module__.split(".")[0])
    location = getattr(module, "__file__", None)
    return location is not None and Path(location).parent.parent == Path(settings.BASE_DIR)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
