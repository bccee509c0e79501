"""Seeds a synthetic national-scale world straight into PostgreSQL with COPY.

The rows are what the services would have written, and the grant rows are exactly what
`access.sync_object` derives from them: `verify()` checks a sample of every protected model
with `access.object_drift`, so the measured world is a faithful one. Distributions are skewed
like real cooperation: a few hub organisations are party to hundreds of agreements and own
many resources, most organisations have a few, and the TLP mix leans to GREEN and AMBER.

The world is seeded once per database and reused; a `bench_world` table marks it complete.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import sys
import time
import uuid
from bisect import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import accumulate

from bench.scales import Scale

SEED = 20260701
TLP_VALUES = ["clear", "green", "amber", "amber_strict", "red"]
#: CLEAR, GREEN, AMBER, AMBER+STRICT, RED.
TLP_WEIGHTS = [8, 34, 36, 12, 10]
CEILINGS = [("red", 30), ("amber_strict", 20), ("amber", 50)]
HUB_SHARE = 0.4  # of all party seats, held by the hubs
HUB_FRACTION = 0.02  # of organisations
UNUSABLE_PASSWORD = "!bench-no-password"  # noqa: S105 (Django's "unusable" form)
MARKER_TABLE = "bench_world"


# --- Public API -------------------------------------------------------------------------------


def is_seeded(connection) -> dict | None:
    """The marker row of a completely seeded world, or None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MARKER_TABLE])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT info FROM {MARKER_TABLE} LIMIT 1")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    return row[0] if isinstance(row[0], dict) else json.loads(row[0])


def seed(scale: Scale, connection) -> dict:
    """Seed the world for scale into connection's (freshly migrated) database."""
    started = time.monotonic()
    world = _World(scale, connection)
    world.run()
    info = {
        "scale": scale.name,
        "seeded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "rows": world.counts,
        "intel_poll": world.intel_poll,
    }
    return info


def mark_seeded(connection, info: dict) -> None:
    """Record that the world is complete (and verified), so later runs reuse it."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {MARKER_TABLE} (info jsonb NOT NULL)")
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} VALUES (%s)",  # noqa: S608
            [json.dumps(info, default=str)],
        )


def verify(sample: int = 150) -> list[str]:
    """Drift between stored and desired grants on a random sample of every protected model and
    of the users' organisation groups; empty when the seeded world is faithful."""
    from django.contrib.auth import get_user_model

    from portal import access

    problems: list[str] = []
    rng = random.Random(SEED + 1)
    for model in access.registered_models():
        ids = list(model._default_manager.values_list("pk", flat=True))
        for obj in model._default_manager.filter(pk__in=rng.sample(ids, min(sample, len(ids)))):
            drift = access.object_drift(obj)
            if drift:
                problems.append(drift.describe())
    users = get_user_model().objects.select_related("membership__organisation")
    ids = list(users.values_list("pk", flat=True))
    for user in users.filter(pk__in=rng.sample(ids, min(sample, len(ids)))):
        desired = access.organisation_groups_of(user)
        current = set(user.groups.values_list("id", flat=True))
        if desired != current:
            problems.append(f"user {user.username}: groups {current} instead of {desired}")
    return problems


def seed_generic_guardian(connection) -> int:
    """Copy every direct-FK grant into guardian's generic tables, as a project that uses
    guardian the usual way would store them; the naive comparison reads these."""
    from django.contrib.contenttypes.models import ContentType

    from portal import access

    total = 0
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("TRUNCATE guardian_groupobjectpermission, guardian_userobjectpermission")
        for model in access.registered_models():
            policy = access.policy_for(model)
            content_type = ContentType.objects.get_for_model(model).pk
            tables = [(policy.group_grants, "group_id", "guardian_groupobjectpermission")]
            if policy.user_grants is not None:
                tables.append((policy.user_grants, "user_id", "guardian_userobjectpermission"))
            for grants, principal, generic in tables:
                cursor.execute(
                    f"INSERT INTO {generic} (object_pk, content_type_id, {principal}, "  # noqa: S608
                    f"permission_id) SELECT content_object_id::text, %s, {principal}, "
                    f"permission_id FROM {grants._meta.db_table}",
                    [content_type],
                )
                total += cursor.rowcount
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE guardian_groupobjectpermission")
        cursor.execute("ANALYZE guardian_userobjectpermission")
    return total


# --- The generator ----------------------------------------------------------------------------


class Progress:
    """One line per table on stderr, redrawn in place while rows stream in."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.count = label, max(total, 1), 0
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.next_draw = 0

    def add(self, n: int = 1) -> None:
        self.count += n
        if self.tty and self.count >= self.next_draw:
            self.next_draw = self.count + max(self.total // 50, 1000)
            self._draw("\r")

    def done(self) -> None:
        self._draw("\r" if self.tty else "")
        sys.stderr.write("\n")
        sys.stderr.flush()

    def _draw(self, prefix: str) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        width = 30
        filled = min(width, int(width * self.count / self.total))
        sys.stderr.write(
            f"{prefix}  {self.label:<28} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.count:>10,} rows {self.count / elapsed:>9,.0f}/s {elapsed:6.1f} s"
        )
        sys.stderr.flush()


@dataclass
class _Org:
    id: int
    group_id: int
    weight: float
    users: list[int] = field(default_factory=list)
    #: (agreement id, partner organisation index, ceiling rank) of its live agreements.
    partners: list[tuple[int, int, int]] = field(default_factory=list)


class _World:
    def __init__(self, scale: Scale, connection):
        self.scale = scale
        self.connection = connection
        self.rng = random.Random(SEED)
        self.counts: dict[str, int] = {}
        self.now = datetime.datetime.now(datetime.UTC)
        self.today = self.now.date()  # the portal's TIME_ZONE is UTC
        #: The collection the TAXII poll measure reads (bench/taxii.py), set by _Intel.
        self.intel_poll: dict = {}

    def run(self) -> None:
        with self.connection.cursor() as cursor:
            # Foreign keys are valid by construction; their per-row triggers would dominate.
            cursor.execute("SET session_replication_role = replica")
            self._permissions(cursor)
            self._organisations()
            self._users()
            self._agreements()
            self._projects()
            self._resources()
            self._grants_of_organisations()
            _Intel(self).run()
            for table in self.counts:
                highest = f"SELECT coalesce(max(id), 1) FROM {table}"  # noqa: S608
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({highest}))", [table]
                )
            cursor.execute("SET session_replication_role = DEFAULT")

    # --- tables ---

    def _permissions(self, cursor) -> None:
        cursor.execute(
            "SELECT ct.app_label, ct.model, p.codename, p.id FROM auth_permission p "
            "JOIN django_content_type ct ON ct.id = p.content_type_id"
        )
        perms = {(app, model, codename): pk for app, model, codename, pk in cursor.fetchall()}
        self.perm_org_view = perms["portal", "organisation", "view_organisation"]
        self.perm_org_members = perms["portal", "organisation", "view_members"]
        self.perm_agreement = perms["agreements", "agreement", "view_agreement"]
        self.perm_project = perms["projects", "project", "view_project"]
        self.perm_resource = perms["resources", "resource", "view_resource"]
        self.perm_stix = perms["intel", "stixobject", "view_stixobject"]

    def _organisations(self) -> None:
        from django_countries import countries

        scale, rng = self.scale, self.rng
        nations = [code for code, _name in list(countries)[: scale.nations]]
        kinds = [
            "national_csirt",
            "government",
            "defence",
            "regulator",
            "industry",
            "academia",
            "international_body",
        ]
        hubs = max(2, round(scale.organisations * HUB_FRACTION))
        others = [rng.lognormvariate(0, 1) for _ in range(scale.organisations - hubs)]
        hub_weight = HUB_SHARE / (1 - HUB_SHARE) * sum(others) / hubs
        weights = [hub_weight] * hubs + others
        self.orgs = [_Org(id=i + 1, group_id=i + 1, weight=w) for i, w in enumerate(weights)]
        self.org_cum = list(accumulate(weights))
        self._copy(
            "auth_group", ["id", "name"], ((o.group_id, f"org:o{o.id:05d}") for o in self.orgs)
        )
        self._copy(
            "portal_organisation",
            [
                "id",
                "name",
                "slug",
                "country",
                "kind",
                "website",
                "description",
                "is_active",
                "created_at",
                "group_id",
            ],
            (
                (
                    o.id,
                    f"{'Hub ' if i < hubs else ''}Organisation {o.id:05d}",
                    f"o{o.id:05d}",
                    nations[i % len(nations)],
                    kinds[0] if i < hubs else rng.choice(kinds),
                    "",
                    "A synthetic partner organisation.",
                    True,
                    self.now,
                    o.group_id,
                )
                for i, o in enumerate(self.orgs)
            ),
        )

    def _users(self) -> None:
        scale, rng = self.scale, self.rng
        base = 5  # admin, signatory, two programme managers, reviewer
        extra = scale.users - base * len(self.orgs)
        shares = [o.weight**0.5 for o in self.orgs]
        total = sum(shares)
        sizes = [base + int(extra * s / total) for s in shares]
        sizes[-1] += scale.users - sum(sizes)
        user_id = 0
        rows, memberships = [], []
        for org, size in zip(self.orgs, sizes, strict=True):
            for n in range(size):
                user_id += 1
                org.users.append(user_id)
                rows.append((user_id, org.id, n))
        self.users_count = user_id
        self._copy(
            "auth_user",
            [
                "id",
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            (
                (
                    uid,
                    UNUSABLE_PASSWORD,
                    False,
                    f"o{org_id:05d}-{n}",
                    "Person",
                    f"{org_id:05d}-{n}",
                    f"o{org_id:05d}-{n}@bench.invalid",
                    False,
                    True,
                    self.now,
                )
                for uid, org_id, n in rows
            ),
        )
        self._copy(
            "auth_user_groups",
            ["id", "user_id", "group_id"],
            ((uid, uid, self.orgs[org_id - 1].group_id) for uid, org_id, _n in rows),
        )
        for uid, org_id, n in rows:
            memberships.append(
                (
                    uid,
                    n == 0,  # org admin
                    n in (2, 3),  # programme manager
                    n in (0, 1),  # signatory
                    n == 4,  # reviewer
                    "",
                    self.now,
                    uid,
                    org_id,
                )
            )
        rng.shuffle(memberships)  # membership ids need not follow user ids
        self._copy(
            "portal_membership",
            [
                "id",
                "org_admin",
                "programme_manager",
                "signatory",
                "reviewer",
                "job_title",
                "created_at",
                "user_id",
                "organisation_id",
            ],
            ((i + 1, *row[1:]) for i, row in enumerate(memberships)),
        )

    def _pick_orgs(self, n: int) -> list[int]:
        """n distinct organisation indexes, drawn by weight."""
        chosen: list[int] = []
        total = self.org_cum[-1]
        while len(chosen) < n:
            index = bisect(self.org_cum, self.rng.random() * total)
            index = min(index, len(self.orgs) - 1)
            if index not in chosen:
                chosen.append(index)
        return chosen

    def _agreements(self) -> None:
        scale, rng, today = self.scale, self.rng, self.today
        statuses = [
            ("active", 80),
            ("signed", 2),
            ("draft", 6),
            ("awaiting_signatures", 5),
            ("expired", 5),
            ("terminated", 2),
        ]
        status_cum = list(accumulate(w for _s, w in statuses))
        ceiling_cum = list(accumulate(w for _c, w in CEILINGS))
        categories = json.dumps(
            [
                "threat_intelligence",
                "vulnerabilities",
                "incidents",
                "datasets",
                "software_and_tools",
                "research_outputs",
                "training_material",
            ]
        )
        rows, parties = [], []
        self.live_agreements: list[tuple[int, list[int]]] = []
        #: The last day each live agreement is in force: grants under it carry it.
        self.last_day: dict[int, datetime.date | None] = {}
        for agreement_id in range(1, scale.agreements + 1):
            roll = rng.random() * 100
            size = 2 if roll < 75 else 3 if roll < 90 else rng.randint(4, 6) if roll < 97 else 10
            members = self._pick_orgs(min(size, len(self.orgs)))
            status = statuses[bisect(status_cum, rng.random() * status_cum[-1])][0]
            ceiling = CEILINGS[bisect(ceiling_cum, rng.random() * ceiling_cum[-1])][0]
            effective = today - datetime.timedelta(days=rng.randint(30, 1500))
            expires = None
            if rng.random() >= 0.3:
                expires = today + datetime.timedelta(days=rng.randint(1, 900))
            terminated_on = ended_at = None
            if status == "signed":
                effective = today + datetime.timedelta(days=rng.randint(1, 60))
                expires = effective + datetime.timedelta(days=rng.randint(365, 1500))
            elif status == "expired":
                expires = today - datetime.timedelta(days=rng.randint(1, 25))
                effective = min(effective, expires - datetime.timedelta(days=30))
                ended_at = self.now
            elif status == "terminated":
                terminated_on = today - datetime.timedelta(days=rng.randint(1, 200))
                ended_at = self.now
            signed = status in ("signed", "active", "expired", "terminated")
            creator = self.orgs[members[0]].users[2]
            created = self.now - datetime.timedelta(days=rng.randint(0, 1500), seconds=agreement_id)
            rows.append(
                (
                    agreement_id,
                    f"AGR-{agreement_id:06d}",
                    1,
                    f"Cooperation agreement {agreement_id}",
                    rng.choice(["mou", "data_sharing", "joint_rd", "nda"]),
                    "Cooperation in cyber security.",
                    "",
                    status,
                    categories,
                    ceiling,
                    "internally_visible",
                    False,
                    True,
                    False,
                    365,
                    "delete",
                    effective,
                    expires,
                    60,
                    "",
                    "English",
                    hashlib.sha256(str(agreement_id).encode()).hexdigest() if signed else "",
                    created if signed else None,
                    created if signed else None,
                    created if status in ("active", "expired", "terminated") else None,
                    ended_at,
                    "Ended by the parties." if status == "terminated" else "",
                    terminated_on,
                    created,
                    created,
                    creator,
                )
            )
            for index in members:
                parties.append((agreement_id, index))
            if status == "active" and (expires is None or expires >= today):
                self.live_agreements.append((agreement_id, members))
                self.last_day[agreement_id] = expires
                rank = TLP_VALUES.index(ceiling)
                for index in members:
                    for other in members:
                        if other != index:
                            self.orgs[index].partners.append((agreement_id, other, rank))
        self._copy(
            "agreements_agreement",
            [
                "id",
                "reference",
                "version",
                "title",
                "kind",
                "purpose",
                "body",
                "status",
                "data_categories",
                "tlp_ceiling",
                "permitted_actions",
                "attribution_allowed",
                "encryption_required",
                "affected_parties_notifiable",
                "retention_days",
                "on_termination",
                "effective_from",
                "expires_on",
                "renewal_notice_days",
                "governing_law",
                "prevailing_language",
                "content_hash",
                "submitted_at",
                "signed_at",
                "activated_at",
                "ended_at",
                "termination_reason",
                "termination_effective_on",
                "created_at",
                "updated_at",
                "created_by_id",
            ],
            rows,
        )
        self._copy(
            "agreements_party",
            [
                "id",
                "required_signatures",
                "legal_contact",
                "technical_contact",
                "incident_contact",
                "agreement_id",
                "organisation_id",
            ],
            ((i + 1, 1, "", "", "", a, self.orgs[o].id) for i, (a, o) in enumerate(parties)),
        )
        self._copy(
            "agreements_party_signatories",
            ["id", "party_id", "user_id"],
            ((i + 1, i + 1, self.orgs[o].users[1]) for i, (_a, o) in enumerate(parties)),
        )
        self._copy(
            "agreements_agreementgroupobjectpermission",
            ["id", "content_object_id", "group_id", "permission_id"],
            (
                (i + 1, a, self.orgs[o].group_id, self.perm_agreement)
                for i, (a, o) in enumerate(parties)
            ),
        )

    def _projects(self) -> None:
        scale, rng, today = self.scale, self.rng, self.today
        statuses = ["active"] * 14 + ["proposed"] * 2 + ["completed"] * 2
        statuses += ["suspended", "cancelled"]
        kinds = ["research", "pilot", "exercise", "training", "standards", "technology_exchange"]
        milestones_each = max(1, scale.milestones // scale.projects)
        deliverables_each = max(1, scale.deliverables // scale.projects)
        projects, participants, wps, milestones, deliverables = [], [], [], [], []
        reviewers, group_grants, user_grants = [], [], []
        for project_id in range(1, scale.projects + 1):
            agreement_id, members = rng.choice(self.live_agreements)
            members = members[:6]
            start = today - datetime.timedelta(days=rng.randint(0, 900))
            end = start + datetime.timedelta(days=rng.randint(180, 1460))
            status = rng.choice(statuses)
            creator = self.orgs[members[0]].users[2]
            projects.append(
                (
                    project_id,
                    f"P{project_id:06d}",
                    f"Joint project {project_id}",
                    "A synthetic joint project.",
                    rng.choice(kinds),
                    status,
                    start,
                    end,
                    1,
                    "",
                    self.now if status != "proposed" else None,
                    self.now,
                    agreement_id,
                    creator,
                )
            )
            participant_ids = []
            for position, index in enumerate(members):
                role = "coordinator" if position == 0 else "partner"
                if position >= 3 and position == len(members) - 1:
                    role = "observer"
                participant_id = len(participants) + 1
                participants.append((participant_id, role, self.orgs[index].id, project_id))
                participant_ids.append(participant_id)
                group_grants.append((project_id, self.orgs[index].group_id))
            wp_ids = []
            for number in range(1, 5):
                wp_id = len(wps) + 1
                lead = participant_ids[(number - 1) % len(participant_ids)]
                wps.append((wp_id, number, f"Work package {number}", start, end, lead, project_id))
                wp_ids.append(wp_id)
            span = (end - start).days
            for kind, count, rows in (
                ("M", milestones_each, milestones),
                ("D", deliverables_each, deliverables),
            ):
                for n in range(1, count + 1):
                    due = start + datetime.timedelta(days=span * n // (count + 1))
                    if due < today:
                        roll = rng.random()
                        item = "accepted" if roll < 0.75 else "planned"
                        item = "submitted" if 0.75 <= roll < 0.85 else item
                    else:
                        item = "submitted" if rng.random() < 0.1 else "planned"
                    submitted = self.now if item in ("submitted", "accepted") else None
                    baseline = due - datetime.timedelta(days=rng.choice([0, 0, 0, 7, 14]))
                    common = (
                        f"{kind}{n:02d}",
                        f"{'Milestone' if kind == 'M' else 'Deliverable'} {n}",
                        due,
                        baseline,
                        item,
                        "",
                        "",
                        submitted,
                        1 if submitted else 0,
                    )
                    wp = wp_ids[n % len(wp_ids)]
                    if kind == "M":
                        rows.append((len(rows) + 1, *common, "", project_id, wp))
                    else:
                        tlp = rng.choice(["green", "amber", "amber"])
                        rows.append((len(rows) + 1, *common, "report", tlp, project_id, wp))
            if rng.random() < 0.4:
                for index in members[: rng.randint(1, 2)]:
                    reviewer = self.orgs[index].users[4]
                    reviewers.append((len(reviewers) + 1, self.now, creator, project_id, reviewer))
                    user_grants.append((project_id, reviewer))
        self._copy(
            "projects_project",
            [
                "id",
                "acronym",
                "title",
                "summary",
                "kind",
                "status",
                "start_date",
                "end_date",
                "required_acceptances",
                "scenario",
                "baseline_frozen_at",
                "created_at",
                "agreement_id",
                "created_by_id",
            ],
            projects,
        )
        self._copy(
            "projects_participant", ["id", "role", "organisation_id", "project_id"], participants
        )
        self._copy(
            "projects_workpackage",
            ["id", "number", "title", "start_date", "end_date", "lead_id", "project_id"],
            wps,
        )
        item_columns = ["id", "code", "title", "due_date", "baseline_due_date", "status"]
        item_columns += ["evidence", "late_justification", "submitted_at", "round"]
        self._copy(
            "projects_milestone",
            [*item_columns, "means_of_verification", "project_id", "work_package_id"],
            milestones,
        )
        self._copy(
            "projects_deliverable",
            [*item_columns, "type", "tlp", "project_id", "work_package_id"],
            deliverables,
        )
        self._copy(
            "projects_reviewerassignment",
            ["id", "assigned_at", "assigned_by_id", "project_id", "user_id"],
            reviewers,
        )
        self._copy(
            "projects_projectgroupobjectpermission",
            ["id", "content_object_id", "group_id", "permission_id"],
            ((i + 1, p, g, self.perm_project) for i, (p, g) in enumerate(group_grants)),
        )
        self._copy(
            "projects_projectuserobjectpermission",
            ["id", "content_object_id", "user_id", "permission_id"],
            ((i + 1, p, u, self.perm_project) for i, (p, u) in enumerate(set(user_grants))),
        )

    def _resources(self) -> None:
        """Resources, their versions, shares and grants, streamed: at large scale these are
        millions of rows, so each table is generated again from the same seed."""
        scale = self.scale
        tlp_cum = list(accumulate(TLP_WEIGHTS))
        rng = random.Random(SEED + 7)
        owner_of: list[int] = []
        tlp_of = bytearray()
        created_of: list[datetime.datetime] = []
        three_years = 3 * 365 * 86400
        for _ in range(scale.resources):
            owner = bisect(self.org_cum, rng.random() * self.org_cum[-1])
            owner_of.append(min(owner, len(self.orgs) - 1))
            tlp_of.append(bisect(tlp_cum, rng.random() * tlp_cum[-1]))
            created_of.append(self.now - datetime.timedelta(seconds=rng.randint(0, three_years)))
        kinds = ["report", "dataset", "tool", "threat_intelligence", "indicator_feed"]
        kinds += ["training_material", "standard_draft", "exercise_material"]
        categories = ["threat_intelligence", "vulnerabilities", "incidents", "datasets"]
        categories += ["software_and_tools", "research_outputs", "training_material"]

        def resources():
            for i in range(scale.resources):
                org = self.orgs[owner_of[i]]
                yield (
                    i + 1,
                    f"Resource {i + 1} {kinds[i % len(kinds)].replace('_', ' ')}",
                    "",
                    kinds[i % len(kinds)],
                    categories[(i // 8) % len(categories)],
                    TLP_VALUES[tlp_of[i]],
                    "[]",
                    created_of[i],
                    created_of[i],
                    org.users[2 + i % 2],
                    org.id,
                    i + 1,  # its one version, copied next with the same id
                )

        self._copy(
            "resources_resource",
            [
                "id",
                "title",
                "description",
                "kind",
                "data_category",
                "tlp",
                "tags",
                "created_at",
                "updated_at",
                "created_by_id",
                "owner_id",
                "current_version_id",
            ],
            resources(),
            total=scale.resources,
        )
        self._copy(
            "resources_resourceversion",
            [
                "id",
                "number",
                "file",
                "sha256",
                "size",
                "content_type",
                "original_name",
                "note",
                "uploaded_at",
                "uploaded_by_id",
                "resource_id",
            ],
            (
                (
                    i + 1,
                    1,
                    f"resources/{i + 1}/bench",
                    "0" * 64,
                    1024 + i % 100_000,
                    "application/pdf",
                    f"resource-{i + 1}.pdf",
                    "",
                    created_of[i],
                    self.orgs[owner_of[i]].users[2],
                    i + 1,
                )
                for i in range(scale.resources)
            ),
            total=scale.resources,
        )
        # Shares: each one to a distinct partner of a live agreement whose ceiling allows
        # the resource's label. CLEAR needs no share. A few shares were revoked.
        shares, named, group_grants, user_grants = [], [], [], []
        rng = random.Random(SEED + 11)
        counts = [0] * 35 + [1] * 30 + [2] * 15 + [3, 4, 5] * 5 + list(range(6, 21))[:5]
        for i in range(scale.resources):
            resource_id, owner, tlp = i + 1, self.orgs[owner_of[i]], tlp_of[i]
            group_grants.append((resource_id, owner.group_id, None))
            if tlp == 0 or not owner.partners:
                continue
            wanted = rng.choice(counts)
            seen: set[int] = set()
            for _ in range(wanted * 2):
                if len(seen) >= wanted:
                    break
                agreement_id, partner, ceiling = rng.choice(owner.partners)
                if ceiling < tlp or partner in seen:
                    continue
                seen.add(partner)
                recipient = self.orgs[partner]
                share_id = len(shares) + 1
                revoked = rng.random() < 0.04
                shares.append(
                    (
                        share_id,
                        "revoked" if revoked else "active",
                        created_of[i],
                        self.now if revoked else None,
                        "No longer needed." if revoked else "",
                        agreement_id,
                        owner.users[2] if revoked else None,
                        recipient.id,
                        resource_id,
                        owner.users[2],
                    )
                )
                if tlp == 4:  # RED: named people only
                    people = rng.sample(recipient.users, rng.randint(1, 2))
                    for user_id in people:
                        named.append((share_id, user_id))
                        if not revoked:
                            user_grants.append((resource_id, user_id, self.last_day[agreement_id]))
                elif not revoked:
                    group_grants.append(
                        (resource_id, recipient.group_id, self.last_day[agreement_id])
                    )
        self._copy(
            "resources_share",
            [
                "id",
                "status",
                "shared_at",
                "ended_at",
                "end_reason",
                "agreement_id",
                "ended_by_id",
                "recipient_id",
                "resource_id",
                "shared_by_id",
            ],
            shares,
        )
        self._copy(
            "resources_share_recipient_users",
            ["id", "share_id", "user_id"],
            ((i + 1, s, u) for i, (s, u) in enumerate(named)),
        )
        # Group grants carry their resource's TLP and kind (the policy's grant_copies).
        self._copy(
            "resources_resourcegroupobjectpermission",
            ["id", "content_object_id", "group_id", "permission_id", "valid_until", "tlp", "kind"],
            (
                (i + 1, r, g, self.perm_resource, d, TLP_VALUES[tlp_of[r - 1]], kinds[(r - 1) % 8])
                for i, (r, g, d) in enumerate(group_grants)
            ),
        )
        self._copy(
            "resources_resourceuserobjectpermission",
            ["id", "content_object_id", "user_id", "permission_id", "valid_until"],
            ((i + 1, r, u, self.perm_resource, d) for i, (r, u, d) in enumerate(user_grants)),
        )

    def _grants_of_organisations(self) -> None:
        """Each organisation sees itself and its member list; the parties of a live
        agreement see each other's member lists (agreements/policies.py)."""
        # (organisation, group, permission) -> last day; None (no end) outlasts any date.
        grants: dict[tuple[int, int, int], datetime.date | None] = {}
        for org in self.orgs:
            grants[(org.id, org.group_id, self.perm_org_view)] = None
            grants[(org.id, org.group_id, self.perm_org_members)] = None
        for agreement_id, members in self.live_agreements:
            until = self.last_day[agreement_id]
            for index in members:
                for other in members:
                    if other != index:
                        key = (
                            self.orgs[index].id,
                            self.orgs[other].group_id,
                            self.perm_org_members,
                        )
                        if key not in grants or (
                            grants[key] and (not until or until > grants[key])
                        ):
                            grants[key] = until
        self._copy(
            "portal_organisationgroupobjectpermission",
            ["id", "content_object_id", "group_id", "permission_id", "valid_until"],
            ((i + 1, *key, grants[key]) for i, key in enumerate(sorted(grants))),
        )

    # --- COPY ---

    def _copy(self, table: str, columns: list[str], rows, total: int | None = None) -> None:
        if total is None and isinstance(rows, list):
            total = len(rows)
        progress = Progress(table, total or 0)
        written = 0
        raw = self.connection.connection  # psycopg 3
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
                if written % 5000 == 0:
                    progress.add(5000)
        progress.count = written
        progress.done()
        self.counts[table] = self.counts.get(table, 0) + written


def grant_set_sizes(connection) -> dict[int, int]:
    """Resource grants per organisation group: who has a small, median or huge grant set."""
    sizes: dict[int, int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT group_id, count(*) FROM resources_resourcegroupobjectpermission "
            "GROUP BY group_id"
        )
        for group_id, count in cursor.fetchall():
            sizes[group_id] = count
    return dict(sizes)


# --- Intelligence ------------------------------------------------------------------------------

#: STIX types of the synthetic intelligence, by weight: mostly indicators, as feeds are.
STIX_TYPE_WEIGHTS = [
    ("indicator", 60),
    ("relationship", 10),
    ("ipv6-addr", 6),
    ("domain-name", 4),
    ("vulnerability", 5),
    ("malware", 4),
    ("observed-data", 4),
    ("attack-pattern", 3),
    ("report", 2),
    ("threat-actor", 1),
    ("intrusion-set", 1),
]
SCO_TYPES = ("ipv6-addr", "domain-name")
#: Of the objects that can have versions, those that have a second one.
SECOND_VERSION = 0.1
#: RED objects in the polled view named to someone else, per object the poller sees.
HIDDEN_FROM_POLLER = 0.02
#: How many partners one object is shared with.
INTEL_SHARE_COUNTS = [0] * 30 + [1] * 45 + [2] * 15 + [3] * 7 + [4] * 3
#: STIX 2.1's namespace for the deterministic ids of cyber-observables (section 2.9).
SCO_NAMESPACE = "00abedb4-aa42-466c-9c01-fed23315a9b7"
DOCUMENTATION_NETS = ("192.0.2", "198.51.100", "203.0.113")

_ID_BASE = 2**32
_ID_RANGE = 2**53 - 2**32
_ID_STEP = 0x9E3779B97F4A7C15 % _ID_RANGE  # coprime with the range: one id per number


def random_id(n: int, table: int) -> int:
    """The n-th id of a table, spread over portal.ids' range as random keys are (distinct
    for each n): the intelligence tables have random keys, and sequential ones would keep
    the rows in an order no real table has."""
    return _ID_BASE + ((n + table * 10**9) * _ID_STEP) % _ID_RANGE


class _Intel:
    """STIX objects across the agreements, as `import_objects` and `share_object` store them:
    objects and their versions (is_first/is_last), shares (a few revoked, RED ones naming
    people), every organisation's collection entries (the recipient's per share, the owner's
    per agreement, each dated when the version reached that view) and the grants
    `sync_object` derives.

    One partner's view of one agreement's collection holds `scale.poll_objects` objects that
    its programme manager sees, plus RED ones named to a colleague (the poll must skip
    those): the collection bench/taxii.py polls. The owner is a hub, the partner is not, and
    the agreement's ceiling is RED.
    """

    def __init__(self, world: _World):
        from intel import markings

        self.w = world
        self.rng = random.Random(SEED + 23)
        self.markings = [markings.TLP2_IDS[tlp] for tlp in TLP_VALUES]
        self.type_names = [name for name, _w in STIX_TYPE_WEIGHTS]
        self.type_cum = list(accumulate(w for _n, w in STIX_TYPE_WEIGHTS))

    def run(self) -> None:
        self._choose_poll()
        self._objects()
        self._shares()
        self._copy()

    # --- the polled collection ---

    def _choose_poll(self) -> None:
        w = self.w
        hubs = max(2, round(len(w.orgs) * HUB_FRACTION))
        far = w.today + datetime.timedelta(days=365)
        chosen = None
        for owner in range(hubs):
            for agreement_id, partner, rank in w.orgs[owner].partners:
                last = w.last_day[agreement_id]
                if rank == 4 and partner >= hubs and (last is None or last > far):
                    chosen = (owner, partner, agreement_id)
                    break
            if chosen:
                break
        if chosen is None:
            raise RuntimeError("no hub has a RED-ceiling agreement with a smaller partner")
        owner, viewer, agreement_id = chosen
        self.poll_owner, self.poll_viewer, self.poll_agreement = chosen
        org = w.orgs[viewer]
        w.intel_poll = {
            "agreement_id": agreement_id,
            "reference": f"AGR-{agreement_id:06d}",
            "owner_id": w.orgs[owner].id,
            "viewer_id": org.id,
            "username": f"o{org.id:05d}-2",  # users[2], a programme manager
            "objects": self.w.scale.poll_objects,
        }

    # --- objects and versions ---

    def _objects(self) -> None:
        """Per object, in the order they were added: owner, TLP, type, times, block (0: any
        object, 1: in the polled view and seen by the poller, 2: there but hidden)."""
        w, rng, scale = self.w, self.rng, self.w.scale
        tlp_cum = list(accumulate(TLP_WEIGHTS))
        poll = scale.poll_objects
        hidden = round(poll * HIDDEN_FROM_POLLER)
        rest = max(0, scale.stix_objects - poll - hidden)
        now = w.now.timestamp()
        rows = []
        for block, count, span in ((1, poll, 400), (2, hidden, 400), (0, rest, 3 * 365)):
            for _ in range(count):
                t0 = now - rng.uniform(3600, span * 86400)
                if block == 0:
                    owner = min(bisect(w.org_cum, rng.random() * w.org_cum[-1]), len(w.orgs) - 1)
                else:
                    owner = self.poll_owner
                tlp = bisect(tlp_cum, rng.random() * tlp_cum[-1])
                if block == 1 and tlp == 4 and rng.random() < 0.5:
                    tlp = rng.randrange(4)  # the poller sees half of the view's RED ones
                if block == 2:
                    tlp = 4
                kind = bisect(self.type_cum, rng.random() * self.type_cum[-1])
                rows.append((t0, owner, tlp, kind, block))
        rows.sort()
        self.t0 = [r[0] for r in rows]
        self.owner = [r[1] for r in rows]
        self.tlp = bytes(r[2] for r in rows)
        self.kind = bytes(r[3] for r in rows)
        self.block = bytes(r[4] for r in rows)
        self.uuid = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in rows]
        # A second version, some days later, for objects that have versions at all.
        self.t2: list[float | None] = []
        for t0, kind in zip(self.t0, self.kind, strict=True):
            if self.type_names[kind] not in SCO_TYPES and rng.random() < SECOND_VERSION:
                self.t2.append(min(now - 60, t0 + rng.uniform(3600, 60 * 86400)))
            else:
                self.t2.append(None)

    def _versions(self, k: int) -> list[tuple[int, float]]:
        """(version id, time added) of object k's versions, oldest first."""
        found = [(random_id(2 * k, 2), self.t0[k])]
        if self.t2[k] is not None:
            found.append((random_id(2 * k + 1, 2), self.t2[k]))
        return found

    # --- shares, entries and grants ---

    def _shares(self) -> None:
        w, rng = self.w, self.rng
        now = w.now.timestamp()
        poll_org = w.orgs[self.poll_viewer]
        self.shares, self.named, self.entries = [], [], []
        self.group_grants, self.user_grants = [], []
        for k in range(len(self.t0)):
            object_id, owner, tlp = random_id(k, 1), w.orgs[self.owner[k]], self.tlp[k]
            self.group_grants.append((object_id, owner.group_id, None))
            block = self.block[k]
            if block:
                picks = [(self.poll_agreement, self.poll_viewer)]
            else:
                picks = []
                wanted, seen = rng.choice(INTEL_SHARE_COUNTS), set()
                for _ in range(wanted * 2):
                    if len(seen) >= wanted or not owner.partners:
                        break
                    agreement_id, partner, ceiling = rng.choice(owner.partners)
                    if ceiling < tlp or partner in seen or agreement_id == self.poll_agreement:
                        continue  # the polled collection holds exactly its block
                    seen.add(partner)
                    picks.append((agreement_id, partner))
            versions = self._versions(k)
            owner_views: dict[int, float] = {}
            for agreement_id, partner in picks:
                recipient = w.orgs[partner]
                shared_at = min(now - 600, self.t0[k] + rng.uniform(0, 3 * 86400))
                revoked = not block and rng.random() < 0.04
                share_id = random_id(len(self.shares), 3)
                self.shares.append(
                    (
                        share_id,
                        object_id,
                        recipient.id,
                        agreement_id,
                        "revoked" if revoked else "active",
                        owner.users[2],
                        _at(shared_at),
                        owner.users[2] if revoked else None,
                        w.now if revoked else None,
                        "No longer needed." if revoked else "",
                    )
                )
                until = w.last_day[agreement_id]
                if tlp == 4:  # RED: named people only
                    if block == 1:
                        people = [poll_org.users[2]] + ([poll_org.users[4]] * (k % 3 == 0))
                    elif block == 2:
                        people = [poll_org.users[3]]
                    else:
                        people = rng.sample(recipient.users, min(len(recipient.users), 2))
                    for user_id in people:
                        self.named.append((share_id, user_id))
                        if not revoked:
                            self.user_grants.append((object_id, user_id, until))
                elif not revoked:
                    self.group_grants.append((object_id, recipient.group_id, until))
                if revoked:
                    continue  # an ended share's entries are gone (intel.services._end)
                for version_id, added in versions:
                    self.entries.append(
                        (
                            agreement_id,
                            recipient.id,
                            version_id,
                            object_id,
                            share_id,
                            max(shared_at, added),
                        )
                    )
                first = owner_views.get(agreement_id)
                owner_views[agreement_id] = shared_at if first is None else min(first, shared_at)
            for agreement_id, shared_at in owner_views.items():
                for version_id, added in versions:
                    self.entries.append(
                        (agreement_id, owner.id, version_id, object_id, None, max(shared_at, added))
                    )

    # --- COPY ---

    def _copy(self) -> None:
        from types import SimpleNamespace

        from intel.stix import identity_id

        w = self.w
        n = len(self.t0)
        identities: dict[int, str] = {}

        def identity(org_index: int) -> str:
            if org_index not in identities:
                identities[org_index] = identity_id(SimpleNamespace(pk=w.orgs[org_index].id))
            return identities[org_index]

        def objects():
            for k in range(n):
                kind = self.type_names[self.kind[k]]
                facts = _facts(kind, k)
                last = self.t2[k] if self.t2[k] is not None else self.t0[k]
                yield (
                    random_id(k, 1),
                    self._stix_id(k),
                    kind,
                    w.orgs[self.owner[k]].id,
                    _CATEGORY.get(kind, "threat_intelligence"),
                    TLP_VALUES[self.tlp[k]],
                    facts["name"][:250],
                    "",
                    facts.get("pattern", ""),
                    facts.get("value", ""),
                    _at(last),
                    False,
                    w.orgs[self.owner[k]].users[2],
                    _at(self.t0[k]),
                )

        def versions():
            for k in range(n):
                kind = self.type_names[self.kind[k]]
                owned = self._versions(k)
                for number, (version_id, added) in enumerate(owned):
                    data = self._data(k, kind, identity(self.owner[k]), number)
                    yield (
                        version_id,
                        random_id(k, 1),
                        _at(added),
                        _at(self.t0[k]),
                        "2.1",
                        False,
                        json.dumps(data),
                        number == 0,
                        number == len(owned) - 1,
                        w.orgs[self.owner[k]].users[2],
                        _at(added),
                    )

        self.w._copy(
            "intel_stixobject",
            [
                "id",
                "stix_id",
                "type",
                "owner_id",
                "data_category",
                "tlp",
                "name",
                "description",
                "pattern",
                "observable_values",
                "modified",
                "revoked",
                "created_by_id",
                "added_at",
            ],
            objects(),
            total=n,
        )
        self.w._copy(
            "intel_stixversion",
            [
                "id",
                "object_id",
                "modified",
                "created",
                "spec_version",
                "revoked",
                "data",
                "is_first",
                "is_last",
                "added_by_id",
                "added_at",
            ],
            versions(),
            total=n + sum(t is not None for t in self.t2),
        )
        self.w._copy(
            "intel_intelshare",
            [
                "id",
                "object_id",
                "recipient_id",
                "agreement_id",
                "status",
                "shared_by_id",
                "shared_at",
                "ended_by_id",
                "ended_at",
                "end_reason",
            ],
            self.shares,
        )
        self.w._copy(
            "intel_intelshare_recipient_users",
            ["id", "intelshare_id", "user_id"],
            ((random_id(i, 7), s, u) for i, (s, u) in enumerate(self.named)),
            total=len(self.named),
        )
        # The views in the order their entries were added, as a live table would hold them.
        self.entries.sort(key=lambda e: e[5])
        self.w._copy(
            "intel_collectionentry",
            ["id", "collection", "viewer_id", "version_id", "object_id", "share_id", "date_added"],
            (
                (random_id(i, 4), f"AGR-{a:06d}", viewer, version, obj, share, _at(added))
                for i, (a, viewer, version, obj, share, added) in enumerate(self.entries)
            ),
            total=len(self.entries),
        )
        self.w._copy(
            "intel_stixobjectgroupobjectpermission",
            ["id", "content_object_id", "group_id", "permission_id", "valid_until"],
            (
                (random_id(i, 5), o, g, w.perm_stix, d)
                for i, (o, g, d) in enumerate(self.group_grants)
            ),
            total=len(self.group_grants),
        )
        self.w._copy(
            "intel_stixobjectuserobjectpermission",
            ["id", "content_object_id", "user_id", "permission_id", "valid_until"],
            (
                (random_id(i, 6), o, u, w.perm_stix, d)
                for i, (o, u, d) in enumerate(self.user_grants)
            ),
            total=len(self.user_grants),
        )

    def _stix_id(self, k: int) -> str:
        kind = self.type_names[self.kind[k]]
        if kind in SCO_TYPES:
            value = _facts(kind, k)["value"]
            canonical = json.dumps({"value": value}, separators=(",", ":"))
            return f"{kind}--{uuid.uuid5(uuid.UUID(SCO_NAMESPACE), canonical)}"
        return f"{kind}--{self.uuid[k]}"

    def _data(self, k: int, kind: str, identity: str, number: int) -> dict:
        """The STIX JSON of object k's version `number`, as the import path stores it."""
        marking = [self.markings[self.tlp[k]]]
        facts = _facts(kind, k)
        if kind in SCO_TYPES:
            return {
                "type": kind,
                "spec_version": "2.1",
                "id": self._stix_id(k),
                "value": facts["value"],
                "object_marking_refs": marking,
            }
        created = _stamp(self.t0[k])
        data = {
            "type": kind,
            "spec_version": "2.1",
            "id": self._stix_id(k),
            "created": created,
            "modified": _stamp(self.t2[k]) if number else created,
            "created_by_ref": identity,
        }
        rng = random.Random(k)  # the same references in every version
        if kind == "indicator":
            data.update(
                name=facts["name"],
                pattern=facts["pattern"],
                pattern_type="stix",
                valid_from=created,
                indicator_types=["malicious-activity"],
            )
        elif kind == "relationship":
            data.update(
                relationship_type="indicates",
                source_ref=f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                target_ref=f"malware--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            )
        elif kind in ("vulnerability", "attack-pattern"):
            source = "cve" if kind == "vulnerability" else "mitre-attack"
            data.update(
                name=facts["name"],
                external_references=[{"source_name": source, "external_id": facts["name"]}],
            )
        elif kind == "malware":
            data.update(name=facts["name"], is_family=True, malware_types=["trojan"])
        elif kind == "threat-actor":
            data.update(name=facts["name"], threat_actor_types=["crime-syndicate"])
        elif kind == "intrusion-set":
            data.update(name=facts["name"])
        elif kind == "observed-data":
            data.update(
                first_observed=created,
                last_observed=created,
                number_observed=1 + k % 40,
                object_refs=[_facts_sco_id(rng.randrange(10**9))],
            )
        elif kind == "report":
            data.update(
                name=facts["name"],
                published=created,
                report_types=["threat-report"],
                object_refs=[
                    f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}" for _ in range(3)
                ],
            )
        if number:
            data["description"] = "Revised after further analysis."
        data["object_marking_refs"] = marking
        return data


_CATEGORY = {"vulnerability": "vulnerabilities", "observed-data": "incidents"}


def _facts(kind: str, k: int) -> dict:
    """Object k's name, pattern and observable value: documentation addresses, example
    domains, made-up hashes, ATT&CK-shaped and CVE-shaped ids."""
    if kind == "indicator":
        net = DOCUMENTATION_NETS[k % 3]
        shape = k % 4
        if shape == 0:
            value = f"{net}.{(k // 3) % 254 + 1}"
            return {
                "name": f"C2 server {value}",
                "pattern": f"[ipv4-addr:value = '{value}']",
                "value": value,
            }
        if shape == 1:
            value = f"h{k:x}.example.com"
            return {
                "name": f"Phishing domain {value}",
                "pattern": f"[domain-name:value = '{value}']",
                "value": value,
            }
        if shape == 2:
            value = f"https://cdn.example.org/{k:x}/payload.bin"
            return {
                "name": f"Payload URL {k:x}",
                "pattern": f"[url:value = '{value}']",
                "value": value,
            }
        value = hashlib.sha256(f"bench sample {k}".encode()).hexdigest()
        return {
            "name": f"Dropper {value[:12]}",
            "pattern": f"[file:hashes.'SHA-256' = '{value}']",
            "value": value,
        }
    if kind == "ipv6-addr":
        value = f"2001:db8:{(k >> 16) & 0xFFFF:x}:{k & 0xFFFF:x}::1"
        return {"name": value, "value": value}
    if kind == "domain-name":
        value = f"d{k:x}.example.org"
        return {"name": value, "value": value}
    if kind == "vulnerability":
        return {"name": f"CVE-{2015 + k % 11}-{10000 + k % 90000}"}
    if kind == "attack-pattern":
        return {"name": f"T{1001 + k % 600}"}
    if kind == "relationship":
        return {"name": f"Relationship {k}"}
    return {"name": f"{kind.replace('-', ' ').capitalize()} {k}"}


def _facts_sco_id(n: int) -> str:
    value = f"2001:db8:ffff:{n & 0xFFFF:x}::{(n >> 16) & 0xFFFF:x}"
    canonical = json.dumps({"value": value}, separators=(",", ":"))
    return f"ipv6-addr--{uuid.uuid5(uuid.UUID(SCO_NAMESPACE), canonical)}"


def _at(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def _stamp(seconds: float) -> str:
    """A STIX timestamp with microseconds, as intel.stix.timestamp writes it."""
    return _at(seconds).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
