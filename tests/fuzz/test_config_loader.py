"""Fuzzing the config loader (``load_config`` then the energy table it names, as ``accelsim run``
does; ``load_energy_table``): random bytes, byte and line mutations of ``configs/arch_a.yaml``,
``configs/edgedrnn.yaml`` and the shipped energy table, and random YAML documents over the valid
field names with values of every YAML type (duplicate keys, anchors, aliases that hold
themselves or expand a billion times, merge keys, huge integers, ``.inf``, dates that are not)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from tests.fuzz import corpus as C
from tests.fuzz.conftest import FUZZ

KINDS = ["config", "energy"]


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(st.data())
def test_random_bytes(seeds, kind, data):
    C.load(kind, seeds.write(kind, C.random_bytes(C.HypRandom(data), kind)))


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(st.data())
def test_byte_mutations_of_valid_files(seeds, kind, data):
    r = C.HypRandom(data)
    x = r.choice(seeds.files[kind])
    for _ in range(r.randint(1, 4)):
        x = C.mutate_bytes(r, x, seeds.files[kind])
    C.load(kind, seeds.write(kind, x))


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(st.data())
def test_line_mutations_of_valid_files(seeds, kind, data):
    r = C.HypRandom(data)
    text = r.choice(seeds.files[kind]).decode()
    for _ in range(r.randint(1, 4)):
        text = C.mutate_yaml_text(r, text, kind)
    C.load(kind, seeds.write(kind, text.encode("utf-8", "surrogatepass")))


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(st.data())
def test_random_documents_over_the_valid_fields(seeds, kind, data):
    text = C.yaml_document(C.HypRandom(data), kind)
    C.load(kind, seeds.write(kind, text.encode("utf-8", "surrogatepass")))
