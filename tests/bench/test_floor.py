"""The Django floor serves each list page with exactly our rows, or the run stops."""

from dataclasses import replace

import pytest

from bench import floor
from bench.latency import Subject
from bench.scales import SMALL
from tests.resources.conftest import new_resource

QUICK = replace(SMALL, iterations=2, warmup=0)


@pytest.fixture
def subject(world):
    for n in range(3):
        new_resource(world, title=f"Report {n}")
    new_resource(world, title="A clear dataset", tlp="clear", kind="dataset")
    return Subject("small", world.a_pm, world.a, 0)


def test_every_list_page_against_a_bare_view_of_the_same_rows(subject):
    rows = {r["path"]: r for r in floor.run(QUICK, [subject], lambda _line: None)}
    assert set(rows) == set(floor.PAGES)
    assert rows["resource library, first page"]["rows"] == 4
    assert rows["resource library, filtered"]["rows"] == 3  # AMBER reports
    assert rows["API resources"]["rows"] == 4
    for row in rows.values():
        assert row["ours_n"] == row["built_n"] == row["floor_n"] == QUICK.iterations
        assert row["ratio_p50"] > 0 and row["built_ratio_p50"] > 0


def test_a_floor_that_shows_other_rows_stops_the_run(subject, monkeypatch):
    kept = floor.Rows

    def one_row_short(ids, ordering, context):
        return kept(ids[:-1], ordering, context)

    monkeypatch.setattr(floor, "Rows", one_row_short)
    with pytest.raises(RuntimeError, match="the floor showed other rows"):
        floor.run(QUICK, [subject], lambda _line: None)
