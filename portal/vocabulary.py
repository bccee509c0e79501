"""The shared vocabulary of cooperation: TLP 2.0 labels and the IEP 2.0 data categories.

Agreements cap what may be shared under them with these; resources are marked with them.
"""

import functools

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def label(choices: type[models.Choices], value: str) -> str:
    """The label of `value` in the active language. A list shows the same few labels on every
    row; they are translated once per language, not once per row."""
    return _labels(choices, get_language()).get(value, value)


@functools.cache
def _labels(choices: type[models.Choices], language: str | None) -> dict[str, str]:
    return {value: str(text) for value, text in choices.choices}


class TLP(models.TextChoices):
    """Traffic Light Protocol 2.0, from least to most restricted."""

    CLEAR = "clear", "TLP:CLEAR"
    GREEN = "green", "TLP:GREEN"
    AMBER = "amber", "TLP:AMBER"
    AMBER_STRICT = "amber_strict", "TLP:AMBER+STRICT"
    RED = "red", "TLP:RED"

    @classmethod
    def rank(cls, value: str) -> int:
        """0 for CLEAR up to 4 for RED; comparisons of labels go through this."""
        return cls.values.index(value)


class DataCategory(models.TextChoices):
    THREAT_INTELLIGENCE = "threat_intelligence", _("Threat intelligence")
    VULNERABILITIES = "vulnerabilities", _("Vulnerabilities")
    INCIDENTS = "incidents", _("Incidents")
    DATASETS = "datasets", _("Datasets")
    SOFTWARE_AND_TOOLS = "software_and_tools", _("Software and tools")
    RESEARCH_OUTPUTS = "research_outputs", _("Research outputs")
    TRAINING_MATERIAL = "training_material", _("Training material")


class PermittedActions(models.TextChoices):
    """IEP 2.0 PERMITTED ACTIONS: what a recipient may do with shared information."""

    NONE = "none", _("None: contact the owner before any use")
    CONTACT_FOR_INSTRUCTION = "contact_for_instruction", _("Contact for instruction")
    INTERNALLY_VISIBLE = "internally_visible", _("Internally visible actions")
    EXTERNALLY_VISIBLE_INDIRECT = (
        "externally_visible_indirect",
        _("Externally visible indirect actions"),
    )
    EXTERNALLY_VISIBLE_DIRECT = "externally_visible_direct", _("Externally visible direct actions")
