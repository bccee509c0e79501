"""Demo agreements among the demo organisations, in every state, made through the services.

The expired example is signed "in the past" with time-machine (installed with the dev
extras that `make demo` uses); without it, that one example is skipped with a note.
"""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from agreements import services
from agreements.models import Agreement
from portal import demo
from portal.models import Organisation
from portal.reauth import Reauthentication

User = get_user_model()

BODY = """# {title}

## 1. Purpose
{purpose}

## 2. What is shared
The parties share information in the categories listed in the terms, marked with TLP 2.0,
and never above the TLP ceiling of this agreement.

## 3. Handling
Recipients handle shared information according to its TLP label and the permitted actions.
Encryption in transit is required where the terms say so.

## 4. Term and termination
This agreement is in force between its effective and expiry dates. A party may terminate it
with notice; shared data is then handled as the terms say.
"""


def seed(write) -> None:
    if Agreement.objects.exists():
        write("Agreements: already seeded.")
        return
    today = timezone.localdate()
    day = datetime.timedelta(days=1)

    dsa = _active(
        "Bilateral threat intelligence exchange",
        "data_sharing",
        ["ee-csirt", "fi-ncsc"],
        today - 200 * day,
        today + 530 * day,
        categories=["threat_intelligence", "incidents", "vulnerabilities"],
        tlp="amber_strict",
    )
    amendment = services.amend(actor=_user("fi-ncsc-pm"), agreement=dsa)
    services.update_draft(
        actor=_user("fi-ncsc-pm"),
        agreement=amendment,
        tlp_ceiling="red",
        body=amendment.body + "\n## 5. TLP:RED\nNamed recipients only, never passed on.\n",
    )
    _submit_and_sign(amendment, ["ee-csirt", "fi-ncsc"])

    _active(
        "Ministry incident reporting exchange",
        "data_sharing",
        ["ee-csirt", "de-bmds"],
        today - 340 * day,
        today + 21 * day,
        categories=["incidents"],
        tlp="amber",
    )
    _active(
        "Baltic-Nordic cyber cooperation memorandum",
        "mou",
        ["ee-csirt", "fi-ncsc", "pl-cda", "int-ccdc"],
        today - 100 * day,
        today + 3 * 365 * day,
        categories=["threat_intelligence", "training_material", "research_outputs"],
        tlp="green",
    )
    _active(
        "Joint research on ICS anomaly detection",
        "joint_rd",
        ["nl-tucl", "fr-sentinelle", "ee-csirt"],
        today - 60 * day,
        today + 2 * 365 * day,
        categories=["datasets", "software_and_tools", "research_outputs"],
        tlp="amber",
    )
    awaiting = _draft(
        "Vulnerability coordination agreement",
        "data_sharing",
        ["fi-ncsc", "pl-cda"],
        today,
        today + 365 * day,
        categories=["vulnerabilities"],
        tlp="amber",
    )
    services.submit(actor=_user("fi-ncsc-pm"), agreement=awaiting)
    _sign(awaiting, "fi-ncsc")  # pl-cda-signatory still has to sign

    nda = _active(
        "Mutual non-disclosure for the red-team pilot",
        "nda",
        ["de-bmds", "fr-sentinelle"],
        today - 90 * day,
        today + 275 * day,
        categories=["software_and_tools"],
        tlp="red",
    )
    services.terminate(
        actor=_user("de-bmds-signatory"),
        agreement=nda,
        reason="The pilot was cancelled by the ministry.",
        effective_on=today,
    )
    _draft(
        "Exercise data exchange (draft)",
        "data_sharing",
        ["pl-cda", "int-ccdc"],
        today + 30 * day,
        today + 395 * day,
        categories=["training_material"],
        tlp="green",
    )
    _signed_not_yet_in_force(today)
    _expired(write, today)
    services.run_due_transitions()
    write(f"Agreements: {Agreement.objects.count()} created, in every state.")


def _signed_not_yet_in_force(today):
    later = _draft(
        "Academic threat data access",
        "data_sharing",
        ["ee-csirt", "nl-tucl"],
        today + 14 * datetime.timedelta(days=1),
        today + 380 * datetime.timedelta(days=1),
        categories=["datasets"],
        tlp="green",
    )
    _submit_and_sign(later, ["ee-csirt", "nl-tucl"])


def _expired(write, today):
    try:
        import time_machine
    except ImportError:
        write("Agreements: time-machine is not installed, so the expired example is skipped.")
        return
    start = today - 400 * datetime.timedelta(days=1)
    with time_machine.travel(datetime.datetime.combine(start, datetime.time(9)), tick=False):
        old = _draft(
            "Pilot information exchange 2025",
            "data_sharing",
            ["fi-ncsc", "de-bmds"],
            start,
            start + 365 * datetime.timedelta(days=1),
            categories=["incidents"],
            tlp="green",
        )
        _submit_and_sign(old, ["fi-ncsc", "de-bmds"])


def _active(title, kind, parties, start, end, *, categories, tlp):
    agreement = _draft(title, kind, parties, start, end, categories=categories, tlp=tlp)
    _submit_and_sign(agreement, parties)
    return agreement


def _draft(title, kind, parties, start, end, *, categories, tlp):
    """Drafted by the first party's programme manager; each other party's own programme
    manager then designates its signatory, as they would on the party's page."""
    purpose = f"{title}: cooperation between {', '.join(parties)}."
    agreement = services.create_agreement(
        actor=_user(f"{parties[0]}-pm"),
        parties=[Organisation.objects.get(slug=slug) for slug in parties],
        title=title,
        kind=kind,
        purpose=purpose,
        body=BODY.format(title=title, purpose=purpose),
        effective_from=start,
        expires_on=end,
        data_categories=categories,
        tlp_ceiling=tlp,
        governing_law="Belgian law",
    )
    for slug in parties[1:]:
        services.update_party(
            actor=_user(f"{slug}-pm"),
            party=agreement.parties.get(organisation__slug=slug),
            signatories=[_user(f"{slug}-signatory")],
        )
    return agreement


def _submit_and_sign(agreement, parties):
    services.submit(actor=_user(f"{parties[0]}-pm"), agreement=agreement)
    for slug in parties:
        _sign(agreement, slug)


def _sign(agreement, slug):
    services.sign(
        actor=_user(f"{slug}-signatory"),
        agreement=agreement,
        reauthentication=Reauthentication(timezone.now(), "password"),
    )


def _user(username):
    return User.objects.select_related("membership__organisation").get(username=username)


demo.register("agreements", seed)
