"""Over-long and malformed input on every form and every API write: each field of each valid
request (tests/security/writes.py) in turn gets values an attacker or a broken client sends:
beyond max_length, a megabyte, the wrong type, impossible dates, NUL bytes, unknown choices,
lone surrogates. The web must re-render the form with an error and the API answer 400 with a
message; never a 500, and nothing saved.

Fields are found from the form each page renders and from the API's OpenAPI schema, so a new
field or endpoint is attacked without anyone listing it here.
"""

from __future__ import annotations

import functools
import json
import re

import pytest
from django import forms
from django.urls import reverse
from django.utils.html import escape
from drf_spectacular.generators import SchemaGenerator

from projects import feed as calendar_feed
from tests.security.support import (
    changes,
    client_for,
    describe_change,
    form_errors,
    json_message,
    rolled_back,
    send,
)
from tests.security.writes import API_WRITES, WEB_WRITES, WRITES

MEGABYTE = "x" * (1024 * 1024 + 1)
NUL = "a\x00b"
SURROGATE = "a\ud800b"
HUGE = 10**20  # beyond a 64-bit integer
HUGE_TEXT = "1" + "0" * 30


# --- The web ---------------------------------------------------------------------------------


def bad_form_values(field: forms.Field) -> list:
    """Values the field must refuse."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        return [["abc"], [HUGE_TEXT], ["-1"], [NUL]]
    if isinstance(field, forms.ModelChoiceField):
        return ["abc", HUGE_TEXT, "-1", NUL] if field.required else ["abc", HUGE_TEXT, NUL]
    if isinstance(field, forms.MultipleChoiceField):
        return [["not-a-choice"], [NUL]]
    if isinstance(field, forms.ChoiceField):
        return ["not-a-choice", NUL]
    if isinstance(field, forms.FileField):
        return ["not a file"] if field.required else []
    if isinstance(field, forms.DateTimeField):
        return ["2024-13-01T25:61", "soon", "99999-01-01T00:00", NUL]
    if isinstance(field, forms.DateField):
        return ["2024-02-30", "yesterday", "0000-01-01", "99999-01-01", NUL]
    if isinstance(field, forms.DecimalField):
        return ["NaN", "Infinity", "1e999", "abc", HUGE_TEXT]
    if isinstance(field, forms.IntegerField):
        values = ["abc", "1.5", HUGE_TEXT]
        if field.min_value is not None:
            values.append(str(field.min_value - 1))
        if field.max_value is not None:
            values.append(str(field.max_value + 1))
        return values
    if isinstance(field, forms.BooleanField):
        return []  # a checkbox: any value is a valid answer
    if isinstance(field, forms.CharField):
        # One past the limit; a megabyte where there is none (all at once: _attempts).
        return [NUL, "x" * (field.max_length + 1) if field.max_length else MEGABYTE]
    pytest.fail(f"Teach bad_form_values about {type(field).__name__}")


def _attempts(valid: dict, bad_values: dict[str, list], text_fields: list[str]) -> list:
    """(label, data): each bad value of each field alone, and a megabyte in every text field
    at once, each with the rest of the request valid."""
    attempts = [
        (f"{name}={value!r}"[:60], {**valid, name: value})
        for name, values in bad_values.items()
        for value in values
    ]
    if text_fields:
        attempts.append(
            ("a megabyte in every text field", {**valid, **dict.fromkeys(text_fields, MEGABYTE)})
        )
    return attempts


def _form_page(client, write, estate):
    page = client.get(write.url(estate))
    if page.status_code == 200 and page.context and "form" in page.context:
        return page.context["form"]
    return None


#: Web writes with no form page of their own, and why their input needs no test here.
NO_FORM_PAGE = {
    "portal:member-activation": "takes no input",
    "portal:member-invitation-resend": "takes no input",
    "portal:member-invitation-revoke": "takes no input",
    "portal:profile-token": "one choice; anything else is answered with a message",
    "portal:sign-out-everywhere": "takes no input",
    "portal:notifications-read-all": "takes no input",
    "portal:notification-read": "takes no input",
    "calendar:manage": "one choice; anything else is answered with a message",
    "resources:revoke": "the reason is cut to length on purpose: a revocation never fails",
    "intel:revoke": "the reason is cut to length on purpose: a revocation never fails",
    "projects:participant-remove": "takes no input",
}


def test_every_form_page_is_attacked(estate):
    """A write whose page shows no form must say why its input needs no test."""
    missing = []
    for write in WEB_WRITES:
        client = client_for(write.user(estate))
        if _form_page(client, write, estate) is None and write.route not in NO_FORM_PAGE:
            missing.append(write.route)
    assert not missing, missing


@pytest.mark.parametrize("write", WEB_WRITES, ids=str)
def test_a_form_refuses_malformed_input_with_a_message(estate, write):
    client = client_for(write.user(estate), raise_errors=False)
    form = _form_page(client, write, estate)
    if form is None:
        assert write.route in NO_FORM_PAGE
        return
    offenders = []
    text_fields = [n for n, f in form.fields.items() if type(f) in (forms.CharField,)]
    bad = {name: bad_form_values(field) for name, field in form.fields.items()}
    for label, data in _attempts(write.data(estate), bad, text_fields):
        with rolled_back():
            before = changes()
            response = send(client, write, estate, data)
            after = changes()
            change = describe_change(before, after)
        errors = form_errors(response) if response.status_code == 200 else {}
        messages = [escape(str(m)) for field_errors in errors.values() for m in field_errors]
        if response.status_code == 400 and after == before:
            continue  # refused before any form: a body beyond DATA_UPLOAD_MAX_MEMORY_SIZE
        if response.status_code != 200:
            offenders.append(f"{label}: {response.status_code}")
        elif not errors:
            offenders.append(f"{label}: accepted")
        elif not any(m in response.content.decode() for m in messages):
            offenders.append(f"{label}: the page does not say what is wrong")
        if after != before:
            offenders.append(f"{label}: saved {change}")
    assert not offenders, offenders


@pytest.mark.parametrize("write", [w for w in WEB_WRITES if not w.multipart], ids=str)
def test_a_form_survives_bytes_that_are_not_utf8(estate, write):
    client = client_for(write.user(estate))
    body = "&".join(f"{key}=%ff%fe%ed%a0%80" for key in (write.data(estate) or {"x": ""}))
    with rolled_back():
        response = client.post(
            write.url(estate), body, content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code in (200, 302), response.status_code


# --- The API ---------------------------------------------------------------------------------


@functools.cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = {
            **_schema()["components"]["schemas"][name],
            **{k: v for k, v in node.items() if k != "$ref"},
        }
    if "allOf" in node and len(node["allOf"]) == 1:
        node = {**_resolve(node["allOf"][0]), **{k: v for k, v in node.items() if k != "allOf"}}
    return node


def request_schema(write) -> dict | None:
    """The write's request body, as the OpenAPI schema documents it."""
    template = write.route_obj.url({name: "{}" for name in write.route_obj.kwarg_names})
    for path, operations in _schema()["paths"].items():
        if re.sub(r"\{[^}]+\}", "{}", path) == template:
            body = operations[write.method.lower()].get("requestBody")
            if body is None:
                return None
            content = body["content"]
            media = "multipart/form-data" if write.multipart else "application/json"
            return _resolve((content.get(media) or next(iter(content.values())))["schema"])
    pytest.fail(f"{write} is not in the OpenAPI schema")


def bad_api_values(prop: dict, *, multipart: bool) -> list:
    """Values the schema says the property does not take."""
    prop = _resolve(prop)
    if prop.get("readOnly"):
        return []
    kind, fmt = prop.get("type"), prop.get("format")
    if "enum" in prop or "oneOf" in prop:
        values = ["not-a-choice", NUL]
        return values if multipart else [*values, ["x"], 7]
    if kind == "string":
        if fmt == "binary":
            return ["not a file"]
        if fmt == "date":
            values = ["2024-02-30", "yesterday", "0000-01-01", "99999-01-01"]
        elif fmt == "date-time":
            values = ["2024-13-01T25:61:00Z", "soon"]
        elif fmt == "decimal":
            values = ["NaN", "Infinity", "1e999", "abc", HUGE_TEXT]
        else:
            # One past the limit; a megabyte where there is none (all at once: _attempts).
            values = [NUL, "x" * (prop["maxLength"] + 1) if "maxLength" in prop else MEGABYTE]
            if not multipart:
                values += [SURROGATE]
        return values if multipart else [*values, ["a"], {"a": 1}]
    if kind == "integer":
        values = ["abc", HUGE_TEXT]
        if "minimum" in prop:
            values.append(prop["minimum"] - 1)
        if "maximum" in prop:
            values.append(prop["maximum"] + 1)
        return values if multipart else [*values, HUGE, 1.5, [1]]
    if kind == "boolean":
        return ["maybe"] if multipart else ["maybe", [True], {"a": 1}]
    if kind == "array":
        if multipart:
            return []
        item_values = bad_api_values(prop.get("items", {}), multipart=False)
        values = ["not-a-list", {"a": 1}] + [[value] for value in item_values[:4]]
        if "maxItems" in prop:
            values.append(["x"] * (prop["maxItems"] + 1))
        return values
    pytest.fail(f"Teach bad_api_values about {prop}")


def _send_api(client, write, estate, data):
    url = write.url(estate)
    if write.multipart:
        return getattr(client, write.method.lower())(url, data, format="multipart")
    # Encoded here, so a lone surrogate travels as the \ud800 escape it would on the wire.
    return client.generic(write.method, url, json.dumps(data), content_type="application/json")


@pytest.mark.parametrize("write", API_WRITES, ids=str)
def test_an_api_write_refuses_malformed_input_with_400(estate, write):
    schema = request_schema(write)
    if schema is None:
        assert not write.data(estate), f"{write} sends a body the schema does not document"
        return
    client = client_for(write.user(estate), api=True, raise_errors=False)
    offenders = []
    properties = schema["properties"]
    assert properties, f"{write}: the schema documents no fields"
    text_fields = [
        name
        for name, prop in properties.items()
        if _resolve(prop).get("type") == "string"
        and not _resolve(prop).get("format")
        and "enum" not in _resolve(prop)
        and not _resolve(prop).get("readOnly")
    ]
    bad = {
        name: bad_api_values(prop, multipart=write.multipart) for name, prop in properties.items()
    }
    for label, data in _attempts(write.data(estate), bad, text_fields):
        with rolled_back():
            before = changes()
            response = _send_api(client, write, estate, data)
            after = changes()
            change = describe_change(before, after)
        if response.status_code != 400:
            offenders.append(f"{label}: {response.status_code}")
        elif not json_message(response):
            offenders.append(f"{label}: no message")
        if after != before:
            offenders.append(f"{label}: saved {change}")
    assert not offenders, offenders


@pytest.mark.parametrize("write", [w for w in API_WRITES if not w.multipart], ids=str)
def test_an_api_write_refuses_a_body_that_is_not_a_json_object(estate, write):
    if request_schema(write) is None:
        return  # an action without input never reads the body
    client = client_for(write.user(estate), api=True, raise_errors=False)
    url = write.url(estate)
    for body in (b"{not json", b"[1, 2]", b'"text"', b'{"title": "\xff\xfe"}', b"null"):
        with rolled_back():
            before = changes()
            response = client.generic(write.method, url, body, content_type="application/json")
            after = changes()
        assert response.status_code == 400, (body, response.status_code, response.content[:200])
        assert json_message(response), body
        assert after == before, body


# --- Dates at the ends of the calendar -------------------------------------------------------


EXTREME_DATES = ["0001-01-01", "9999-12-31"]


def test_dates_at_the_ends_of_the_calendar_break_nothing(estate):
    """Valid dates, but far away, in every date of every write: the request and every page
    showing the result (the Gantt chart, the calendar feed, the lists) still work."""
    crashes, tried = [], 0
    for write in WRITES:
        data = write.data(estate)
        date_fields = [
            key
            for key, value in data.items()
            if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d(T.*)?", value)
        ]
        if not date_fields:
            continue
        client = client_for(write.user(estate), api=write.is_api, raise_errors=False)
        pages = client_for(write.user(estate), raise_errors=False)
        for name in date_fields:
            for day in EXTREME_DATES:
                value = day + data[name][10:]
                tried += 1
                with rolled_back():
                    feed = calendar_feed.create_calendar_feed(actor=write.user(estate))
                    if write.is_api:
                        response = _send_api(client, write, estate, {**data, name: value})
                    else:
                        response = send(client, write, estate, {**data, name: value})
                    if response.status_code >= 500:
                        crashes.append(f"{write} {name}={value}: {response.status_code}")
                    if response.status_code not in (201, 302) and not (
                        write.is_api and response.status_code == 200
                    ):
                        continue  # refused: the pages are as they were
                    for url in [
                        *_pages_showing(estate),
                        reverse("calendar:feed", args=[feed.token]),
                    ]:
                        if pages.get(url).status_code >= 500:
                            crashes.append(f"{url} after {write} {name}={value}")
    assert not crashes, crashes
    assert tried > 20, "the walk found hardly any date fields"


def _pages_showing(estate) -> list[str]:
    return [
        reverse("portal:dashboard"),
        reverse("projects:list"),
        reverse("agreements:list"),
        estate.a_project.get_absolute_url(),
        estate.a_active.get_absolute_url(),
        estate.a_exercise.get_absolute_url(),
        estate.ab_draft.get_absolute_url(),
        estate.ab_active.get_absolute_url(),
    ]


# --- Filters, search, sorting and paging: the GET forms of every list --------------------------

BAD_QUERY_VALUES = [NUL, "x" * 5000, HUGE_TEXT, "-1", "9999-12-31", "0001-01-01", "2024-02-30", "%"]
#: Tried on each parameter alone, so another parameter's error cannot hide its crash.
BAD_QUERY_VALUES_ALONE = [NUL, HUGE_TEXT, "9999-12-31", "0001-01-01"]


def _query_routes():
    """Every route that reads its query string: lists, reports, their API twins, downloads."""
    from portal.base_views import ListControlsMixin
    from resources.report_views import AccessReportMixin
    from tests.access.routes import all_routes, excluded_reason, is_allauth

    for route in all_routes():
        view = route.view_class
        if excluded_reason(route) or is_allauth(route) or view is None:
            continue
        if route.viewset_actions.get("get") or issubclass(
            view, ListControlsMixin | AccessReportMixin
        ):
            yield route


def _query_names(route) -> set[str]:
    """The query parameters a route reads."""
    from resources.report_views import AccessReportMixin
    from resources.reports import ReportFilterForm

    view, action = route.view_class, route.viewset_actions.get("get", "")
    names = {"page"}
    if route.is_api:
        names.add("page_size")
    if action == "list" or not route.is_api:
        names |= {"q", "search", "sort", "ordering"}
        filterset = getattr(view, "filterset_class", None)
        names |= set(filterset.base_filters) if filterset else set()
    if action == "access_log" or (not route.is_api and issubclass(view, AccessReportMixin)):
        names |= set(ReportFilterForm.base_fields) | {"format"}
    if action == "download":
        names.add("version")
    return names


def _get_kwargs(estate, route) -> dict:
    pks = {
        "portal.organisation": None,
        "agreements.agreement": estate.ab_active.pk,
        "resources.resource": estate.a_report.pk,
        "projects.project": estate.a_project.pk,
        "intel.stixobject": estate.a_intel.pk,
    }
    kwargs = {}
    for name in route.kwarg_names:
        if name == "slug":
            kwargs["slug"] = estate.a.slug
        elif name == "pk":
            view = route.view_class
            model = getattr(view, "model", None) or view.queryset.model
            kwargs["pk"] = pks[model._meta.label_lower]
        else:
            pytest.fail(f"Teach _get_kwargs about <{name}> in {route}")
    return kwargs


@pytest.mark.parametrize("route", list(_query_routes()), ids=lambda r: r.name)
def test_a_list_or_report_survives_malformed_query_parameters(estate, route):
    """Filters, search, sort and page, each alone and all at once: never a crash."""
    client = client_for(estate.a_admin, api=route.is_api, raise_errors=False)
    url = route.url(_get_kwargs(estate, route))
    names = _query_names(route)
    tries = [{name: value for name in names} for value in BAD_QUERY_VALUES]
    tries += [{name: value} for name in sorted(names) for value in BAD_QUERY_VALUES_ALONE]
    crashes = []
    for params in tries:
        response = client.get(url, params)
        if response.status_code >= 500:
            crashes.append(f"{params if len(params) == 1 else 'all'}: {response.status_code}")
    assert not crashes, crashes
