"""Input validation for the core's forms. Writes happen in portal.services."""

from allauth.mfa.base.forms import AuthenticateForm as MFAAuthenticateForm
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from portal import reauth
from portal.invitations import suggest_username
from portal.models import ROLE_DESCRIPTIONS, Role
from portal.services import ADDRESS_TAKEN

User = get_user_model()


class RoleCheckboxes(forms.CheckboxSelectMultiple):
    """Role checkboxes, each with the one line that says what the role lets a person do."""

    option_template_name = "components/role_option.html"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        description = ROLE_DESCRIPTIONS.get(value, "")
        if description:
            option["description"] = description
            option["attrs"]["aria-describedby"] = f"{option['attrs']['id']}_description"
        return option


class RolesField(forms.MultipleChoiceField):
    widget = RoleCheckboxes

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", Role.choices)
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", _("Everyone is a member; roles add what they may do for the organisation.")
        )
        super().__init__(**kwargs)


class InviteMemberForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        required=False,
        validators=[UnicodeUsernameValidator()],
        help_text=_(
            "Suggested from the name; change it if you like. Left empty, the portal suggests "
            "one when the invitation is sent."
        ),
    )
    email = forms.EmailField(label=_("Email"), max_length=254)
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    roles = RolesField()

    def __init__(self, *args, suggest_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        attrs = {"autocomplete": "off", "spellcheck": "false"}
        if suggest_url:
            # static/js/username.js fills the box from the name while the admin has not
            # typed in it; without a script, an empty box is suggested on sending.
            attrs["data-suggest-url"] = suggest_url
        self.fields["username"].widget.attrs.update(attrs)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if username and User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is already taken."))
        return username

    def clean_email(self):
        # Whether the address already has an account is not checked here: the service gives
        # an organisation admin the same answer either way and tells the address's owner.
        return self.cleaned_data["email"].lower()

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("username"):
            # Without a script, the suggestion is made here; the service makes the same one.
            cleaned["username"] = suggest_username(
                cleaned.get("first_name", ""), cleaned.get("last_name", ""), cleaned["email"]
            )
        return cleaned


class StaffInviteMemberForm(InviteMemberForm):
    """Platform staff's invitation (the admin site). Staff see every account anyway, so an
    address that already has one is refused in plain words."""

    def clean_email(self):
        email = super().clean_email()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(ADDRESS_TAKEN)
        return email


class MemberRolesForm(forms.Form):
    roles = RolesField()


class TokenForm(forms.Form):
    operation = forms.ChoiceField(choices=[("rotate", "Create or rotate"), ("revoke", "Revoke")])


class ReauthenticationForm(forms.Form):
    """Proof that it is really the person, at the moment of acting (see portal.reauth).

    Given the person (`user`), the form asks for exactly what they must give: the code field
    is required, and says so, when they have an authenticator app, and absent otherwise.
    A browser is never sent the password back, so a form shown again after a refusal says
    "Enter your password again" on it (`ask_for_password_again`) instead of emptying it
    without a word.
    """

    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    otp = forms.CharField(
        label=_("Authenticator code"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("Only if you have set up two-factor authentication."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is None:
            return
        if not reauth.has_totp(user):
            del self.fields["otp"]
        else:
            otp = self.fields["otp"]
            otp.required = True
            otp.label = _("Authenticator code (required)")
            otp.help_text = _(
                "Your account has two-factor authentication: enter the 6-digit code your "
                "authenticator app shows now."
            )
            otp.error_messages["required"] = _("Enter the code from your authenticator app.")

    def ask_for_password_again(self) -> None:
        """On a form shown again with errors, say that the password must be typed again
        (unless the error already is about the password)."""
        if self.is_bound and "password" in self.fields and not self.has_error("password"):
            self.add_error("password", PASSWORD_AGAIN)


#: Said on the password field whenever a form comes back without it.
PASSWORD_AGAIN = _("Enter your password again: for your safety it is not sent back to the page.")


class ReauthenticateForm(ReauthenticationForm):
    """allauth's confirmation before changing the password or two-factor settings: the same
    proof as for signing, password and code together."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                reauth.reauthenticate(
                    self.user, password=cleaned["password"], otp=cleaned.get("otp", "")
                )
            except ValidationError as error:
                add_service_errors(self, error)
        return cleaned


class TwoFactorStepForm(MFAAuthenticateForm):
    """allauth's second step at sign-in, with the code field labelled, focused and numeric:
    the person arrives from the password page to type exactly one thing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        code = self.fields["code"]
        code.label = _("Authenticator code")
        code.help_text = _("The 6-digit code your authenticator app shows, or a recovery code.")
        code.widget.attrs.update(autofocus=True, inputmode="numeric", autocomplete="one-time-code")
        code.widget.attrs.pop("placeholder", None)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's, refusing an id no row can have before the database sees it: SQLite fails on
    an integer beyond 64 bits instead of finding nothing, which would be a server error.

    `fix()` makes some choices part of the answer whatever is posted (the drafter's own
    organisation among an agreement's parties): the chip picker shows them as chips that
    cannot be removed, and `clean` adds them back when a request leaves them out.
    """

    fixed: tuple = ()

    def fix(self, objects, *, label) -> None:
        """Always include `objects`; `label` says why, next to their chips."""
        self.fixed = tuple(objects)
        self.widget.locked = frozenset(str(self.prepare_value(obj)) for obj in self.fixed)
        self.widget.locked_label = label

    def clean(self, value):
        posted = [] if value in (None, "") else value
        if self.fixed and isinstance(posted, list | tuple):
            chosen = {str(v) for v in posted}
            keys = [str(self.prepare_value(obj)) for obj in self.fixed]
            value = [*posted, *(key for key in keys if key not in chosen)]
        return super().clean(value)

    def _check_values(self, value):
        meta = self.queryset.model._meta
        field = meta.get_field(self.to_field_name) if self.to_field_name else meta.pk
        if isinstance(field, models.IntegerField) and isinstance(value, list | tuple):
            low, high = connection.ops.integer_field_range(field.get_internal_type())
            for pk in value:
                try:
                    out_of_range = not low <= int(pk) <= high
                except (TypeError, ValueError):
                    continue  # not a number: Django refuses it in its own words
                if out_of_range:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": pk},
                    )
        return super()._check_values(value)


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
