"""The benchmark's synthetic intelligence is what the import path would have stored: every
kind of object it writes, in each version, passes intel.stix.check (stix2-validator, the
portal's own rules) unchanged."""

import datetime
import uuid
from types import SimpleNamespace

import pytest

from bench import seed
from intel import markings, stix
from portal.vocabulary import TLP


def _generator(kind_index: int, tlp_index: int) -> seed._Intel:
    made = seed._Intel.__new__(seed._Intel)
    made.markings = [markings.TLP2_IDS[t] for t in seed.TLP_VALUES]
    made.type_names = [name for name, _w in seed.STIX_TYPE_WEIGHTS]
    made.kind = bytes([kind_index])
    made.tlp = bytes([tlp_index])
    start = datetime.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC).timestamp()
    made.t0 = [start]
    made.t2 = [start + 86400.5]
    made.uuid = [uuid.uuid4()]
    return made


@pytest.mark.parametrize("kind", [name for name, _w in seed.STIX_TYPE_WEIGHTS])
def test_every_kind_of_seeded_object_passes_the_import_checks(kind):
    owner = SimpleNamespace(pk=4242)
    index = [name for name, _w in seed.STIX_TYPE_WEIGHTS].index(kind)
    for tlp_index, tlp in enumerate(seed.TLP_VALUES):
        made = _generator(index, tlp_index)
        numbers = [0] if kind in seed.SCO_TYPES else [0, 1]
        for number in numbers:
            data = made._data(0, kind, stix.identity_id(owner), number)
            checked = stix.check(data, owner=owner, default_tlp=TLP.AMBER, other_identities=set())
            assert checked.data == data  # nothing had to be completed
            assert checked.tlp == tlp


def test_random_ids_are_distinct_and_in_the_portals_range():
    ids = [seed.random_id(n, table) for table in (1, 2) for n in range(50_000)]
    assert len(set(ids)) == len(ids)
    assert all(2**32 <= i < 2**53 for i in ids)
