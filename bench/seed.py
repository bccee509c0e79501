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
            if drift.missing or drift.extra:
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
        self._copy(
            "resources_resourcegroupobjectpermission",
            ["id", "content_object_id", "group_id", "permission_id", "valid_until"],
            ((i + 1, r, g, self.perm_resource, d) for i, (r, g, d) in enumerate(group_grants)),
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
