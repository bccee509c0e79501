"""Mass assignment: a create or update request that also carries the fields the server decides
(owner, organisation, status, created_by, id, content hash, signing time, a TLP that is not
editable there, ...). They must be ignored, or the request refused; the object must come out
exactly as the same request without them makes it.

For every write of tests/security/writes.py that creates or changes an object, every field of
that object's model that the form or serializer does not offer is sent with a hostile value,
together with the names attackers try everywhere. The result is compared, field by field, with
the result of the clean request.
"""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.db import models

from tests.security.support import changes, client_for, form_errors, rolled_back, send
from tests.security.test_inputs import request_schema
from tests.security.writes import WRITES

#: Names attackers send to every endpoint, whatever its model.
ALWAYS = [
    "id",
    "pk",
    "organisation",
    "owner",
    "created_by",
    "status",
    "content_hash",
    "signed_at",
    "tlp",
    "reference",
    "version",
    "project",
    "agreement",
    "resource",
    "user",
    "uploaded_by",
    "shared_by",
    "is_staff",
    "is_superuser",
    "org_admin",
    "baseline_frozen_at",
    "baseline_due_date",
    "round",
    "evidence",
    "sha256",
]
#: A moment far from now: a field that took it was assigned by the request.
LONG_AGO = datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)


def _offered(write, estate, client) -> set[str]:
    """The fields the request may legitimately set."""
    offered = set(write.data(estate)) | set(write.also_writable)
    if write.is_api:
        schema = request_schema(write)
        if schema is not None:
            offered |= {n for n, p in schema["properties"].items() if not p.get("readOnly")}
    else:
        page = client.get(write.url(estate))
        if page.status_code == 200 and page.context and "form" in page.context:
            offered |= set(page.context["form"].fields)
    return offered


def _hostile(field: models.Field, current, estate):
    """A value for field that differs from what the server decided."""
    if isinstance(field, models.ForeignKey):
        others = field.related_model._default_manager.exclude(pk=current).order_by("-pk")
        other = others.first()
        return other.pk if other is not None else 999_999
    if field.choices:
        return next(value for value, _ in field.choices if value != current)
    if isinstance(field, models.BooleanField):
        return not current
    if isinstance(field, models.DateTimeField):
        return LONG_AGO.isoformat()
    if isinstance(field, models.DateField):
        return "2001-02-03"
    if isinstance(field, models.IntegerField | models.DecimalField):
        return (current or 0) + 7
    if isinstance(field, models.JSONField):
        return ["hacked"] if not isinstance(current, list) or current != ["hacked"] else {"x": 1}
    if isinstance(field, models.CharField | models.TextField):
        return "f" * 64 if field.max_length == 64 else "hacked-by-c"[: field.max_length or 100]
    return None


def _always(name: str, estate):
    return {
        "id": 999_999,
        "pk": 999_999,
        "organisation": estate.c.pk,
        "owner": estate.c.pk,
        "created_by": estate.c_admin.pk,
        "status": "active",
        "content_hash": "f" * 64,
        "signed_at": LONG_AGO.isoformat(),
        "tlp": "clear",
        "reference": "AGR-2001-9999",
        "version": 9,
        "project": estate.c_project.pk,
        "agreement": estate.cb_active.pk,
        "resource": estate.c_report.pk,
        "user": estate.c_admin.pk,
        "uploaded_by": estate.c_admin.pk,
        "shared_by": estate.c_admin.pk,
        "is_staff": True,
        "is_superuser": True,
        "org_admin": True,
        "baseline_frozen_at": LONG_AGO.isoformat(),
        "baseline_due_date": "2001-02-03",
        "round": 9,
        "evidence": "hacked-by-c",
        "sha256": "f" * 64,
    }[name]


def _state(obj) -> dict:
    """What the object is: its fields and relations, comparable across two runs."""
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    state = {}
    for field in fresh._meta.concrete_fields:
        if field.primary_key or isinstance(field, models.FileField):
            continue
        value = getattr(fresh, field.name)
        if isinstance(field, models.ForeignKey):
            value = str(value) if value is not None else None  # ids of new rows differ
        state[field.name] = value
    for field in fresh._meta.many_to_many:
        state[field.name] = sorted(str(o) for o in getattr(fresh, field.name).all())
    return state


#: Values the server draws at random, so two runs differ: only their shape must agree. A value
#: sent by the attacker ("AGR-2001-9999") does not have it.
RANDOM_VALUES = {
    "reference": re.compile(r"AGR-\d{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"),
    # A STIX id: the type (its first eight characters must agree), then a random UUID.
    "stix_id": re.compile(r"[a-z0-9-]+--[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"),
}


def _differences(clean: dict, attacked: dict) -> dict:
    differ = {}
    for name, value in clean.items():
        other = attacked[name]
        shape = RANDOM_VALUES.get(name)
        drawn = shape and all(isinstance(v, str) and shape.fullmatch(v) for v in (value, other))
        if drawn and value[:8] == other[:8]:  # both drawn by the server, in the same year
            continue
        both_times = isinstance(value, datetime.datetime) and isinstance(other, datetime.datetime)
        if both_times and abs(value - other) < datetime.timedelta(minutes=5):
            continue  # the same moment, give or take the test's own run time
        if value != other:
            differ[name] = (value, other)
    return differ


def _encode(value, *, api: bool):
    if api:
        return value
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _send(client, write, estate, data):
    if write.is_api and not write.multipart:
        return client.generic(
            write.method, write.url(estate), json.dumps(data), content_type="application/json"
        )
    return send(client, write, estate, data)


@pytest.mark.parametrize("write", [w for w in WRITES if w.subject is not None], ids=str)
def test_fields_the_server_decides_cannot_be_sent(estate, write):
    client = client_for(write.user(estate), api=write.is_api)
    offered = _offered(write, estate, client)

    with rolled_back():
        response = send(client, write, estate)
        assert response.status_code in (200, 201, 302), response.content[:300]
        subject = write.subject(estate)
        clean = _state(subject)

    model_fields = {f.name: f for f in subject._meta.concrete_fields}
    extras = {}
    for name, field in model_fields.items():
        if name in offered or field.primary_key or isinstance(field, models.FileField):
            continue
        attname_value = getattr(subject, field.attname)
        value = _hostile(field, attname_value, estate)
        if value is not None:
            extras[name] = value
    for name in ALWAYS:
        if name not in offered:
            extras.setdefault(name, _always(name, estate))
    assert extras, f"{write}: nothing to smuggle in?"
    data = {
        **write.data(estate),
        **{name: _encode(value, api=write.is_api) for name, value in extras.items()},
    }

    with rolled_back():
        before = changes()
        response = _send(client, write, estate, data)
        if response.status_code in (400, 200) and (
            response.status_code == 400 or form_errors(response)
        ):
            assert changes() == before, "refused, yet something was saved"
            return
        assert response.status_code in (200, 201, 302), response.content[:300]
        attacked_subject = write.subject(estate)
        attacked = _state(attacked_subject)

    assert _differences(clean, attacked) == {}, f"sent {sorted(extras)}"
    assert attacked_subject.pk != _always("id", estate), "the id sent was taken"


def test_the_comparison_notices_a_smuggled_field(estate):
    """The test above must be able to fail: a field that did change is reported."""
    clean = {"status": "draft", "signed_at": None, "owner": "A"}
    attacked = {"status": "active", "signed_at": LONG_AGO, "owner": "C"}
    assert set(_differences(clean, attacked)) == {"status", "signed_at", "owner"}
    drawn = {"reference": "AGR-2026-7KQ3-M9XD"}
    assert _differences(drawn, {"reference": "AGR-2026-0GQ3-TWCK"}) == {}  # both drawn
    assert set(_differences(drawn, {"reference": "AGR-2001-9999"})) == {"reference"}
    assert re.fullmatch(r"hacked-by-c", _hostile(models.CharField(max_length=50), "x", None))


#: Writes that create or change nothing a field could be smuggled into, and why.
NO_SUBJECT = {
    "POST portal:member-activation": "takes no input: it switches an account off or on",
    "POST portal:member-invitation-resend": "takes no input: it emails a new link",
    "POST portal:member-invitation-revoke": "takes no input: it voids the link",
    "POST portal:profile-token": "creates a random token for the signed-in person only",
    "POST calendar:manage": "creates a random feed address for the signed-in person only",
    "POST portal:sign-out-everywhere": "ends sessions; creates nothing",
    "POST projects:participant-remove": "deletes a participant; creates nothing",
    "POST portal:notifications-read-all": "marks the person's own notices read; no fields",
    "POST portal:notification-read": "marks one of the person's own notices read; no fields",
    "POST projects:evidence-open": "a confirmation (and a password for RED); no fields",
    "POST projects:evidence-close": "a confirmation; no fields",
    "POST api-token": "creates a random token for the account whose password is given",
}


def test_every_write_is_checked_for_mass_assignment_or_excused():
    unchecked = {str(w) for w in WRITES if w.subject is None}
    assert unchecked == set(NO_SUBJECT), unchecked ^ set(NO_SUBJECT)
