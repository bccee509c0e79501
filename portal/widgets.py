"""Form widgets shared by every app."""

from collections.abc import Callable

from django import forms
from django.utils.translation import gettext_lazy as _


class ChipPicker(forms.SelectMultiple):
    """A multi-select a person fills by searching: the chosen values are removable chips, a
    search box filters the options, arrow keys and Enter choose (static/js/chip_picker.js).

    It renders the plain ``<select multiple>`` with the same name and options, and the script
    builds the picker on top of it and keeps the select's selection as the value: the form
    posts exactly what it posted before, and without JavaScript the select is what the person
    uses. The search filters the options already on the page, which are the field's own
    queryset, so the picker can never offer (or confirm) anything the form would not.

    - ``locked``: values shown as chips that cannot be removed (a form sets them through
      ``portal.forms.ModelMultipleChoiceField.fix``, which also adds them on the server);
    - ``search_text(instance)``: more words the search matches besides the label (a short name);
    - ``group_by(instance)``: the heading an option is listed under (a person's organisation).
    """

    template_name = "components/chip_picker.html"

    class Media:
        js = [forms.Script("js/chip_picker.js", defer=True)]

    def __init__(
        self,
        attrs=None,
        choices=(),
        *,
        search_text: Callable[[object], str] | None = None,
        group_by: Callable[[object], str] | None = None,
    ):
        super().__init__(attrs, choices)
        self.search_text = search_text
        self.group_by = group_by
        self.locked: frozenset[str] = frozenset()
        self.locked_label = _("always included")

    def format_value(self, value):
        """The selected values, the locked ones always among them."""
        values = super().format_value(value)
        return values + sorted(self.locked.difference(values))

    def optgroups(self, name, value, attrs=None):
        if self.group_by is None:
            return super().optgroups(name, value, attrs)
        # Group a model field's flat choices under their heading, in the queryset's order.
        grouped: dict[str, list] = {}
        for option_value, option_label in self.choices:
            instance = getattr(option_value, "instance", None)
            if instance is None:
                continue  # the empty choice: a multi-select has nothing to say "none" with
            grouped.setdefault(str(self.group_by(instance)), []).append(
                (option_value, option_label)
            )
        flat, self.choices = self.choices, list(grouped.items())
        try:
            return super().optgroups(name, value, attrs)
        finally:
            self.choices = flat

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.locked:
            option["attrs"]["data-locked"] = ""
        instance = getattr(value, "instance", None)
        if self.search_text is not None and instance is not None:
            option["attrs"]["data-search"] = self.search_text(instance)
        return option

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["locked_label"] = self.locked_label
        return context
