"""Demo projects under the demo agreements, made through the services.

Five projects: a joint R&D project, a pilot, a cross-border exercise with injects (some
released, some still to come), a standards project and a proposed training. Between them,
milestones and deliverables are in every state: planned, submitted, accepted and sent back
for changes; some are overdue and some have slipped against their baseline, with reasons.
The independent reviewers' panel reviews every running project.

Each project's history is played at the days it would have happened, with time-machine
(installed with the dev extras that `make demo` uses), so submission and review dates read
true. Without it, the same steps run today, with a note: the states are the same.
"""

import contextlib
import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from agreements.models import Agreement
from portal import demo
from portal.models import Organisation
from projects import services
from projects.models import Project
from resources.models import Resource

User = get_user_model()
REVIEWER = "int-irp-reviewer"
RESEARCH_AGREEMENT = "Joint research on ICS anomaly detection"
MOU = "Baltic-Nordic cyber cooperation memorandum"


def seed(write) -> None:
    if Project.objects.exists():
        write("Projects: already seeded.")
        return
    today = timezone.localdate()
    clock = _Clock(write, today)
    _research(clock)
    _pilot(clock)
    _exercise(clock)
    _standards(clock)
    _training(clock)
    write(f"Projects: {Project.objects.count()} created, with milestones in every state.")


# --- The projects -----------------------------------------------------------------------------


def _research(clock) -> None:
    """Joint R&D: a late, sent-back plan, an accepted milestone with a linked dataset, a late
    submission awaiting review, a slipped milestone and an overdue one."""
    with clock.at(-50):
        project = _project(
            "nl-tucl",
            acronym="ICS-WATCH",
            title="Anomaly detection for industrial control systems",
            kind="research",
            agreement=RESEARCH_AGREEMENT,
            partners=["fr-sentinelle", "ee-csirt"],
            start=clock.day(-50),
            end=clock.day(540),
            summary="Learning normal PLC behaviour from shared traffic captures, and "
            "validating detectors in a national CSIRT's test range.",
        )
        wp1 = _work_package(project, 1, "Data collection", "nl-tucl", clock.day(-50), clock.day(60))
        wp2 = _work_package(
            project, 2, "Detection models", "fr-sentinelle", clock.day(-30), clock.day(240)
        )
        wp3 = _work_package(
            project, 3, "Validation at a national CSIRT", "ee-csirt", clock.day(-20), clock.day(520)
        )
        plan = _deliverable(wp1, "D1.1", "Data management plan", clock.day(-30), "report", "green")
        dataset = _milestone(
            wp1,
            "MS1",
            "Anomaly dataset collected",
            clock.day(-20),
            "Dataset shared with the partners",
        )
        prototype = _milestone(
            wp2, "MS2", "Detection prototype running", clock.day(10), "Live demonstration"
        )
        detector = _deliverable(
            wp2, "D2.1", "Prototype anomaly detector", clock.day(-5), "demonstrator", "amber"
        )
        _milestone(
            wp3, "MS3", "Validation environment ready", clock.day(-3), "Test range booked and wired"
        )
        _deliverable(wp3, "D3.1", "Validation report", clock.day(150), "report", "amber")
        _start(project)
        _contribute(project, "nl-tucl", "person_months", "36", "PM", "Two researchers, 18 months")
        _contribute(project, "fr-sentinelle", "funding", "180000", "EUR", "Own funds")
        _contribute(project, "ee-csirt", "test_range", "20", "days", "ICS test range")
        _contribute(project, "nl-tucl", "data", "1", "dataset", "Captured PLC traffic")
    with clock.at(-32):
        _submit(plan, "Plan v1 attached to the project wiki.")
    with clock.at(-29):
        _review(
            plan, "request_changes", "Add the retention periods and the pseudonymisation method."
        )
    with clock.at(-21):
        _submit(
            dataset,
            "Three weeks of Modbus and S7 traffic from two water utilities.",
            resources=[Resource.objects.get(title="ICS anomaly dataset")],
        )
    with clock.at(-19):
        _review(dataset, "accept", "Well documented; the labels are consistent.")
    with clock.at(-8):
        _move(prototype, clock.day(40), "The PLC vendor's test firmware arrived six weeks late.")
    with clock.at(-2):
        harness = Resource.objects.get(title="Protocol fuzzing harness").versions.get(number=1)
        _submit(
            detector,
            "Detector container and evaluation notebook.",
            versions=[harness],
            late="Integration with the fuzzing harness took a week longer than planned.",
        )


def _pilot(clock) -> None:
    """A pilot: two accepted items and a slipped evaluation; an observer takes part."""
    with clock.at(-80):
        project = _project(
            "ee-csirt",
            acronym="BALTIC-SOC",
            title="Shared early-warning channel between national SOCs",
            kind="pilot",
            agreement=MOU,
            partners=["fi-ncsc", "pl-cda"],
            observers=["int-ccdc"],
            start=clock.day(-80),
            end=clock.day(100),
            summary="A six-month pilot of a machine-readable early-warning channel.",
        )
        wp1 = _work_package(project, 1, "Channel set-up", "ee-csirt", clock.day(-80), clock.day(-5))
        wp2 = _work_package(project, 2, "Evaluation", "fi-ncsc", clock.day(-20), clock.day(90))
        channel = _milestone(
            wp1, "MS1", "Channel operational", clock.day(-40), "First warning exchanged"
        )
        procedures = _deliverable(
            wp1, "D1.1", "Pilot operating procedures", clock.day(-10), "report", "green"
        )
        evaluation = _deliverable(
            wp2, "D2.1", "Pilot evaluation report", clock.day(15), "report", "green"
        )
        _milestone(
            wp2, "MS2", "Pilot evaluation completed", clock.day(45), "Evaluation meeting minutes"
        )
        _start(project)
        _contribute(project, "fi-ncsc", "equipment", "2", "servers", "Message broker hosts")
        _contribute(project, "pl-cda", "person_months", "6", "PM", "Analysts on shift")
        _contribute(project, "ee-csirt", "expertise", "15", "days", "Channel design")
    with clock.at(-41):
        _submit(channel, "First early warning exchanged between all three SOCs.")
    with clock.at(-39):
        _review(channel, "accept", "")
    with clock.at(-12):
        _submit(procedures, "Procedures v1.0, agreed at the partners' meeting.")
    with clock.at(-11):
        _review(procedures, "accept", "Clear and short.")
    with clock.at(-5):
        _move(evaluation, clock.day(30), "Evaluation extended to cover the winter incident peak.")


def _exercise(clock) -> None:
    """A cross-border exercise running now: injects released and still to come, and a
    communication plan sent back for changes."""
    now = timezone.now()
    with clock.at(-30):
        project = _project(
            "int-ccdc",
            acronym="NORDIC-SHIELD",
            title="Cross-border crisis exercise on energy infrastructure",
            kind="exercise",
            agreement=MOU,
            partners=["ee-csirt", "fi-ncsc", "pl-cda"],
            start=clock.day(-30),
            end=clock.day(45),
            summary="A two-day exercise of the national CSIRTs' cooperation in a crisis.",
            scenario="A ransomware group hits regional grid operators in three nations, "
            "then claims a data leak and floods public portals.",
            exercise_start=now - datetime.timedelta(days=1),
            exercise_end=now + datetime.timedelta(days=1),
        )
        wp1 = _work_package(project, 1, "Exercise design", "int-ccdc", clock.day(-30), clock.day(0))
        wp2 = _work_package(project, 2, "Lessons learned", "pl-cda", clock.day(0), clock.day(45))
        exercise_plan = _deliverable(
            wp1, "D1.1", "Exercise plan and scenario", clock.day(-14), "report", "amber"
        )
        communication = _deliverable(
            wp1, "D1.2", "Communication plan", clock.day(-7), "report", "amber"
        )
        _milestone(wp1, "MS1", "Exercise conducted", clock.day(2), "Exercise log")
        _deliverable(wp2, "D2.1", "After-action report", clock.day(30), "report", "amber")
        _start(project)
        _contribute(project, "int-ccdc", "test_range", "3", "days", "Exercise range and white cell")
        _contribute(project, "ee-csirt", "expertise", "10", "days", "Scenario authors")
        _contribute(project, "fi-ncsc", "person_months", "4", "PM", "Players")
        _inject(
            project,
            now - datetime.timedelta(hours=20),
            "Ransomware at a regional grid operator",
            ["ee-csirt", "fi-ncsc"],
        )
        _inject(
            project, now - datetime.timedelta(hours=16), "Data leak claimed on a forum", ["pl-cda"]
        )
        _inject(
            project,
            now + datetime.timedelta(hours=4),
            "Public portals under DDoS",
            ["ee-csirt", "fi-ncsc", "pl-cda"],
        )
        _inject(
            project,
            now + datetime.timedelta(hours=8),
            "Journalists ask for a statement",
            ["fi-ncsc"],
        )
    with clock.at(-15):
        _submit(exercise_plan, "Plan, scenario and inject list v1.")
    with clock.at(-13):
        _review(exercise_plan, "accept", "")
    with clock.at(-8):
        _submit(communication, "Communication plan v1.")
    with clock.at(-6):
        _review(communication, "request_changes", "Name each nation's point of contact per inject.")


def _standards(clock) -> None:
    """A standards project: an accepted kick-off, and a survey that slipped and now awaits
    review."""
    with clock.at(-40):
        project = _project(
            "fi-ncsc",
            acronym="CSIRT-TAXO",
            title="Common incident taxonomy for national CSIRTs",
            kind="standards",
            agreement=MOU,
            partners=["ee-csirt", "pl-cda", "int-ccdc"],
            start=clock.day(-40),
            end=clock.day(320),
            summary="One incident taxonomy, mapped to the partners' national ones.",
        )
        wp1 = _work_package(project, 1, "Taxonomy", "fi-ncsc", clock.day(-40), clock.day(300))
        kickoff = _milestone(wp1, "MS0", "Kick-off held", clock.day(-35), "Minutes")
        survey = _deliverable(
            wp1, "D1.0", "Survey of national taxonomies", clock.day(-10), "report", "clear"
        )
        _milestone(wp1, "MS1", "Taxonomy draft v1", clock.day(20), "Draft circulated")
        _deliverable(wp1, "D1.1", "Taxonomy specification v1", clock.day(90), "report", "clear")
        _start(project)
        _contribute(project, "fi-ncsc", "person_months", "8", "PM", "Editor")
        _contribute(project, "int-ccdc", "expertise", "20", "days", "Mapping to NATO terms")
    with clock.at(-35):
        _submit(kickoff, "Kick-off held in Helsinki; minutes on the wiki.")
    with clock.at(-34):
        _review(kickoff, "accept", "")
    with clock.at(-15):
        _move(survey, clock.day(5), "Two partners' national surveys arrived late.")
    with clock.at(-1):
        _submit(survey, "Survey of eleven national taxonomies, with a comparison table.")


def _training(clock) -> None:
    """A training still being proposed: its plan is not frozen yet."""
    project = _project(
        "pl-cda",
        acronym="CYBER-ACADEMY",
        title="Joint incident-handling academy",
        kind="training",
        agreement=MOU,
        partners=["int-ccdc"],
        start=clock.day(30),
        end=clock.day(400),
        summary="Train-the-trainer courses for incident handlers.",
    )
    wp1 = _work_package(project, 1, "Curriculum", "pl-cda", clock.day(30), clock.day(120))
    _milestone(wp1, "MS1", "Curriculum agreed", clock.day(90), "Curriculum document")


# --- Steps, each through a service --------------------------------------------------------------


def _project(
    coordinator, *, acronym, title, kind, agreement, partners, start, end, observers=(), **details
):
    return services.create_project(
        actor=_pm(coordinator),
        acronym=acronym,
        title=title,
        kind=kind,
        agreement=Agreement.objects.get(title=agreement, status="active"),
        start_date=start,
        end_date=end,
        partners=[Organisation.objects.get(slug=slug) for slug in partners],
        observers=[Organisation.objects.get(slug=slug) for slug in observers],
        **details,
    )


def _work_package(project, number, title, lead, start, end):
    return services.add_work_package(
        actor=_coordinator(project),
        project=project,
        number=number,
        title=title,
        lead=project.participants.get(organisation__slug=lead),
        start_date=start,
        end_date=end,
    )


def _milestone(work_package, code, title, due, verification):
    return services.add_milestone(
        actor=_coordinator(work_package.project),
        work_package=work_package,
        code=code,
        title=title,
        due_date=due,
        means_of_verification=verification,
    )


def _deliverable(work_package, code, title, due, type_, tlp):
    return services.add_deliverable(
        actor=_coordinator(work_package.project),
        work_package=work_package,
        code=code,
        title=title,
        due_date=due,
        type=type_,
        tlp=tlp,
    )


def _start(project):
    """Activate (freezing the baseline) and assign the independent panel's reviewer."""
    services.activate(actor=_coordinator(project), project=project)
    services.assign_reviewer(actor=_coordinator(project), project=project, user=_user(REVIEWER))


def _contribute(project, slug, kind, amount, unit, note):
    services.add_contribution(
        actor=_pm(slug),
        participant=project.participants.get(organisation__slug=slug),
        kind=kind,
        amount=Decimal(amount),
        unit=unit,
        note=note,
    )


def _inject(project, release_at, title, targets):
    services.add_inject(
        actor=_coordinator(project),
        project=project,
        release_at=release_at,
        title=title,
        description=f"{title}. Players: assess, coordinate across borders, and report.",
        targets=list(project.participants.filter(organisation__slug__in=targets)),
    )


def _submit(item, evidence, *, resources=(), versions=(), late=""):
    item.refresh_from_db()
    if not late and timezone.localdate() > item.due_date:
        late = "Submitted after the due date."  # only when played without time travel
    services.submit_item(
        actor=_pm(item.work_package.lead.organisation.slug),
        item=item,
        evidence=evidence,
        resources=resources,
        versions=versions,
        late_justification=late,
    )


def _review(item, decision, comment):
    item.refresh_from_db()
    services.review_item(actor=_user(REVIEWER), item=item, decision=decision, comment=comment)


def _move(item, new_date, reason):
    item.refresh_from_db()
    services.change_due_date(
        actor=_coordinator(item.project), item=item, new_date=new_date, reason=reason
    )


def _coordinator(project):
    return _pm(project.participants.get(role="coordinator").organisation.slug)


def _pm(slug):
    return _user(f"{slug}-pm")


def _user(username):
    return User.objects.select_related("membership__organisation").get(username=username)


class _Clock:
    """Plays steps on the day they would have happened, relative to today."""

    def __init__(self, write, today: datetime.date):
        self.today = today
        try:
            import time_machine
        except ImportError:
            write("Projects: time-machine is not installed, so the history is played today.")
            time_machine = None
        self._time_machine = time_machine

    def day(self, offset: int) -> datetime.date:
        return self.today + datetime.timedelta(days=offset)

    def at(self, offset: int):
        if self._time_machine is None:
            return contextlib.nullcontext()
        moment = datetime.datetime.combine(self.day(offset), datetime.time(10), datetime.UTC)
        return self._time_machine.travel(moment, tick=False)


demo.register("projects", seed)
