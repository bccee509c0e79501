"""Sightings flow back to the producer; correlation names only sources the viewer may see."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements import services as agreement_services
from intel import correlation, services
from intel.models import StixObject
from portal import access
from tests.agreements.conftest import draft_between, sign_by_all
from tests.factories import UserFactory
from tests.intel.conftest import bundle, indicator, share_with_b, store


def test_a_partners_sighting_reaches_the_producer_by_organisation(intel):
    (obj,) = store(intel, indicator())
    share_with_b(intel, obj)
    sighting = services.report_sighting(actor=intel.b_member, sighted=obj, count=3)
    anonymous = services.report_sighting(actor=intel.b_member, sighted=obj, anonymous=True)
    summary = services.sighting_summary(intel.a_pm, obj)
    assert [(row["organisation"], row["count"]) for row in summary] == [(intel.b, 3), (None, 1)]
    visible = access.visible_to(intel.a_pm, StixObject.objects.all())
    assert visible.filter(pk=sighting.pk).exists(), "a named sighting is shared back"
    assert not visible.filter(pk=anonymous.pk).exists(), "an anonymous one stays B's"


def test_a_red_sighting_stays_with_the_partner(intel):
    (obj,) = store(intel, indicator())
    share_with_b(intel, obj)
    services.report_sighting(actor=intel.b_member, sighted=obj, tlp="red")
    assert services.sighting_summary(intel.a_pm, obj) == []


def test_a_sighting_of_a_hidden_object_fails_like_one_of_a_missing_object(intel):
    (hidden,) = store(intel, indicator())
    missing = "indicator--00000000-0000-4000-8000-000000000000"
    answers = []
    for ref in (hidden.stix_id, missing):
        sighting = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": "sighting--8a1b2c3d-1111-4222-8333-944455556661",
            "created": "2026-11-30T10:00:00.000Z",
            "modified": "2026-11-30T10:00:00.000Z",
            "sighting_of_ref": ref,
        }
        try:
            services.import_objects(actor=intel.c_member, raw=bundle(sighting))
        except services.stix.BundleRefused as refusal:
            answers.append(refusal.problems[0].replace(ref, "<ref>"))
    assert len(answers) == 2 and answers[0] == answers[1]
    assert "not an object you can see" in answers[0]


def test_also_reported_by_names_visible_sources_only(intel):
    (mine,) = store(intel, indicator("198.51.100.77"))
    b_pm = UserFactory(organisation=intel.b, username="bor-pm-2", roles=["programme_manager"])
    (theirs,) = store(intel, indicator("198.51.100.77"), actor=b_pm)
    assert correlation.also_reported_by(intel.a_pm, mine) == []
    services.share_object(actor=b_pm, obj=theirs, agreement=intel.ab_agreement, recipient=intel.a)
    assert correlation.also_reported_by(intel.a_pm, mine) == [intel.b]


def test_a_hidden_partners_identical_indicator_changes_nothing_observable(intel):
    """C holds the same indicator as A and shares it with nobody: the correlation answer and
    the queries that compute it are exactly what they are when C holds nothing."""
    (mine,) = store(intel, indicator("198.51.100.88"))

    def observe():
        with CaptureQueriesContext(connection) as queries:
            answer = correlation.also_reported_by(intel.a_pm, mine)
        return answer, [q["sql"] for q in queries.captured_queries]

    before = observe()
    c_pm = UserFactory(
        organisation=intel.c, username="cal-pm", roles=["programme_manager", "signatory"]
    )
    store(intel, indicator("198.51.100.88"), actor=c_pm)
    # C is even a partner of A's under another agreement, but did not share it.
    ac = draft_between(intel, intel.a, intel.c, title="A-C exchange")
    agreement_services.submit(actor=intel.a_pm, agreement=ac)
    sign_by_all(intel, ac)
    after = observe()
    assert after == before
