"""Every write staff can make in the admin is in the audit trail, for the organisation it
touches, so that organisation's admins see what the operator did to them.

What staff can do is read from the admin registry (add, change, delete, and each action of
every registered ModelAdmin), so a new admin, or a new action, fails
`test_every_admin_write_has_a_request` until a request for it is added to ADMIN_WRITES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib import admin

from portal import services
from portal.models import AuditEvent
from tests.access.admin_routes import staff_request
from tests.security.support import changes, client_for, describe_change


@dataclass(frozen=True)
class AdminWrite:
    """One valid admin request by staff, the audit event it must record and the organisation
    that event must concern."""

    model: str
    operation: str  # "add", "change", "delete" or "action:<name>"
    url: Callable
    data: Callable
    action: str
    organisation: Callable
    before: Callable = field(default=lambda e: None)

    def __str__(self) -> str:
        return f"{self.model} {self.operation}"


def _change(model: str, obj: Callable) -> Callable:
    app, name = model.split(".")
    return lambda e: f"/admin/{app}/{name}/{obj(e).pk}/change/"


def _changelist(model: str) -> Callable:
    app, name = model.split(".")
    return lambda e: f"/admin/{app}/{name}/"


def _action(name: str, obj: Callable) -> Callable:
    return lambda e: {"action": name, "_selected_action": [obj(e).pk], "index": 0}


def _deactivate_first(e) -> None:
    services.deactivate_member(actor=e.staff, membership=e.b_member.membership)


_ORGANISATION = {"country": "EE", "kind": "regulator", "website": "", "description": ""}

ADMIN_WRITES = [
    AdminWrite(
        "portal.organisation",
        "add",
        lambda e: "/admin/portal/organisation/add/",
        lambda e: {"name": "Sec Danube Regulator", "slug": "sec-dan", **_ORGANISATION},
        "organisation.created",
        lambda e: type(e.a).objects.get(slug="sec-dan"),
    ),
    AdminWrite(
        "portal.organisation",
        "change",
        _change("portal.organisation", lambda e: e.a),
        lambda e: {"name": "Sec Atlantis CSIRT (renamed)", "is_active": "on", **_ORGANISATION},
        "organisation.updated",
        lambda e: e.a,
    ),
    AdminWrite(
        "portal.membership",
        "add",
        lambda e: "/admin/portal/membership/add/",
        lambda e: {
            "organisation": e.b.pk,
            "username": "sec-staff-invited",
            "email": "sec-staff-invited@bor.example",
            "first_name": "New",
            "last_name": "Person",
            "job_title": "",
            "roles": ["reviewer"],
        },
        "member.invited",
        lambda e: e.b,
    ),
    AdminWrite(
        "portal.membership",
        "change",
        _change("portal.membership", lambda e: e.a_member.membership),
        lambda e: {"reviewer": "on"},
        "member.roles_changed",
        lambda e: e.a,
    ),
    AdminWrite(
        "portal.membership",
        "action:deactivate",
        _changelist("portal.membership"),
        _action("deactivate", lambda e: e.a_member.membership),
        "member.deactivated",
        lambda e: e.a,
    ),
    AdminWrite(
        "portal.membership",
        "action:reactivate",
        _changelist("portal.membership"),
        _action("reactivate", lambda e: e.b_member.membership),
        "member.reactivated",
        lambda e: e.b,
        before=_deactivate_first,
    ),
    AdminWrite(
        "auth.user",
        "change",
        _change("auth.user", lambda e: e.c_member),
        lambda e: {"first_name": "Renamed", "last_name": "Member"},
        "account.updated",
        lambda e: e.c,
    ),
    AdminWrite(
        "auth.user",
        "action:send_password_reset",
        _changelist("auth.user"),
        _action("send_password_reset", lambda e: e.a_member),
        "account.password_reset_sent",
        lambda e: e.a,
    ),
    AdminWrite(
        "auth.user",
        "action:deactivate",
        _changelist("auth.user"),
        _action("deactivate", lambda e: e.c_member),
        "member.deactivated",
        lambda e: e.c,
    ),
]


def admin_operations(user) -> list[tuple[str, str]]:
    """(model label, operation) for everything the admin lets user write."""
    request = staff_request(user)
    found = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        for operation in ("add", "change", "delete"):
            if getattr(model_admin, f"has_{operation}_permission")(request):
                found.append((label, operation))
        found.extend((label, f"action:{name}") for name in model_admin.get_actions(request))
    return found


def test_every_admin_write_has_a_request(estate):
    known = {(write.model, write.operation) for write in ADMIN_WRITES}
    missing = [op for op in admin_operations(estate.staff) if op not in known]
    assert not missing, f"Add a request to ADMIN_WRITES for: {missing}"
    assert admin_operations(estate.staff), "the admin lets staff write nothing: check the walk"


def test_the_admin_deletes_nothing(estate):
    """Deleting would bypass the services, so the audit trail."""
    deletes = [
        op for op in admin_operations(estate.staff) if op[1] in ("delete", "action:delete_selected")
    ]
    assert not deletes


@pytest.mark.parametrize("write", ADMIN_WRITES, ids=str)
def test_every_admin_write_is_audited_for_the_organisation_it_touches(estate, write):
    write.before(estate)
    client = client_for(estate.staff)
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()

    response = client.post(write.url(estate), write.data(estate))

    assert response.status_code == 302, response.content.decode()[:2000]
    events = AuditEvent.objects.filter(pk__gt=last, action=write.action, actor=estate.staff)
    assert events.exists(), f"{write}: no {write.action} event by staff"
    assert [event.organisation for event in events] == [write.organisation(estate)]


@pytest.mark.parametrize("write", ADMIN_WRITES, ids=str)
def test_no_admin_write_is_made_without_the_staff_members_csrf_token(estate, write):
    """A page elsewhere cannot make a signed-in operator's browser write in the admin."""
    write.before(estate)
    client = client_for(estate.staff, csrf=True)
    before = changes()

    response = client.post(write.url(estate), write.data(estate))

    assert response.status_code == 403
    assert changes() == before, describe_change(before, changes())
