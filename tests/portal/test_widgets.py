"""The chip picker: what it renders for the browser (and for a browser without JavaScript),
and the fixed choices a form cannot lose."""

import re

import pytest
from django import forms

from portal.forms import ModelMultipleChoiceField
from portal.models import Organisation
from portal.widgets import ChipPicker
from tests.factories import OrganisationFactory


class PartnersForm(forms.Form):
    partners = ModelMultipleChoiceField(
        queryset=Organisation.objects.order_by("name"),
        widget=ChipPicker(search_text=lambda organisation: organisation.slug),
    )


@pytest.fixture
def directory(db):
    return [
        OrganisationFactory(name="Atlantis CSIRT", slug="atl"),
        OrganisationFactory(name="Borealis Centre", slug="bor"),
        OrganisationFactory(name="Caldera Agency", slug="cal"),
    ]


def test_it_is_the_plain_multi_select_underneath_so_the_form_posts_the_same(directory):
    atlantis, borealis, _ = directory
    html = str(PartnersForm(data={"partners": [str(borealis.pk)]})["partners"])
    select = re.search(r"<select [^>]*>", html).group()
    assert 'name="partners"' in select and "multiple" in select and 'id="id_partners"' in select
    assert f'<option value="{borealis.pk}" selected data-search="bor">Borealis Centre' in html
    assert f'<option value="{atlantis.pk}" data-search="atl">Atlantis CSIRT' in html
    # Without JavaScript the select is what the person uses: the hint says how, and the
    # picker's own parts wait hidden until the script shows them.
    assert "Hold Ctrl" in html
    assert re.search(r'<div class="chip-picker-ui" hidden>', html)


def test_it_offers_an_accessible_combobox_with_its_words_translated(directory):
    html = str(PartnersForm()["partners"])
    combobox = re.search(r'<input [^>]*role="combobox"[^>]*>', html).group()
    assert 'aria-controls="id_partners_listbox"' in combobox
    assert 'aria-expanded="false"' in combobox and 'aria-autocomplete="list"' in combobox
    assert 'id="id_partners_listbox" role="listbox"' in html
    # The script's words come from the template, so they are translated with the page's.
    assert 'data-remove-label="Remove %(label)s"' in html
    assert "Enter chooses" in html and "Backspace" in html and "Escape closes" in html


def test_the_script_comes_with_the_form_once_and_deferred(directory):
    media = str(PartnersForm().media)
    assert media == '<script src="/static/js/chip_picker.js" defer></script>'


def test_options_can_be_listed_under_a_heading(directory):
    class GroupedForm(forms.Form):
        partners = ModelMultipleChoiceField(
            queryset=Organisation.objects.order_by("name"),
            widget=ChipPicker(group_by=lambda organisation: organisation.name[0]),
        )

    html = str(GroupedForm()["partners"])
    assert html.count("<optgroup") == 3
    assert re.search(r'<optgroup label="B">\s*<option value="\d+">Borealis Centre', html)


def test_a_fixed_choice_is_a_locked_chip_and_comes_back_whatever_is_posted(directory):
    atlantis, borealis, _ = directory
    form = PartnersForm(data={"partners": [str(borealis.pk)]})
    form.fields["partners"].fix([atlantis], label="your organisation, always a party")

    html = str(form["partners"])
    # Shown chosen and locked even though the request left it out.
    assert f'<option value="{atlantis.pk}" selected data-locked=""' in html
    assert 'data-locked-label="your organisation, always a party"' in html
    assert form.is_valid(), form.errors
    assert set(form.cleaned_data["partners"]) == {atlantis, borealis}

    alone = PartnersForm(data={})
    alone.fields["partners"].fix([atlantis], label="always")
    assert alone.is_valid() and list(alone.cleaned_data["partners"]) == [atlantis]


def test_a_value_outside_the_queryset_is_still_refused_in_words(directory):
    atlantis, borealis, caldera = directory
    form = PartnersForm(data={"partners": [str(borealis.pk), str(caldera.pk)]})
    form.fields["partners"].queryset = Organisation.objects.exclude(pk=caldera.pk)
    form.fields["partners"].fix([atlantis], label="always")
    assert not form.is_valid()
    assert form.errors["partners"] == [
        f"Select a valid choice. {caldera.pk} is not one of the available choices."
    ]
