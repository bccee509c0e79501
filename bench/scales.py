"""The sizes of the synthetic worlds the harness seeds and measures."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    organisations: int
    nations: int
    users: int
    agreements: int
    projects: int
    milestones: int
    deliverables: int
    resources: int
    #: STIX objects across the agreements (bench/seed.py, _Intel).
    stix_objects: int
    #: Objects in the one collection view the TAXII poll measure reads (bench/taxii.py).
    poll_objects: int
    #: Requests per path and user after the warm-up.
    iterations: int = 40
    warmup: int = 3

    @property
    def database(self) -> str:
        return f"portal_bench_{self.name}"

    def as_dict(self) -> dict:
        return asdict(self)


LARGE = Scale(
    name="large",
    organisations=2_000,
    nations=150,
    users=50_000,
    agreements=20_000,
    projects=10_000,
    milestones=200_000,
    deliverables=50_000,
    resources=1_000_000,
    stix_objects=500_000,
    poll_objects=50_000,
)

SMALL = Scale(
    name="small",
    organisations=LARGE.organisations // 10,
    nations=LARGE.nations // 10,
    users=LARGE.users // 10,
    agreements=LARGE.agreements // 10,
    projects=LARGE.projects // 10,
    milestones=LARGE.milestones // 10,
    deliverables=LARGE.deliverables // 10,
    resources=LARGE.resources // 10,
    stix_objects=LARGE.stix_objects // 10,
    poll_objects=LARGE.poll_objects // 10,
)

SCALES = {scale.name: scale for scale in (SMALL, LARGE)}
