"""Fuzzing the sweep spec loader (``load_spec`` as the ``sweep`` command calls it, then the first
design points, each of which validates its config): random bytes, byte and line mutations of two
small valid specs, random YAML documents over the spec's keys."""

from __future__ import annotations

from hypothesis import given, strategies as st

from tests.fuzz import corpus as C
from tests.fuzz.conftest import FUZZ


@FUZZ
@given(st.data())
def test_random_bytes(seeds, data):
    C.load("spec", seeds.write("spec", C.random_bytes(C.HypRandom(data), "spec")))


@FUZZ
@given(st.data())
def test_byte_mutations_of_valid_specs(seeds, data):
    r = C.HypRandom(data)
    x = r.choice(seeds.files["spec"])
    for _ in range(r.randint(1, 4)):
        x = C.mutate_bytes(r, x, seeds.files["spec"])
    C.load("spec", seeds.write("spec", x))


@FUZZ
@given(st.data())
def test_line_mutations_of_valid_specs(seeds, data):
    r = C.HypRandom(data)
    text = r.choice(seeds.files["spec"]).decode()
    for _ in range(r.randint(1, 4)):
        text = C.mutate_yaml_text(r, text, "spec")
    C.load("spec", seeds.write("spec", text.encode("utf-8", "surrogatepass")))


@FUZZ
@given(st.data())
def test_random_documents_over_the_spec_keys(seeds, data):
    text = C.yaml_document(C.HypRandom(data), "spec")
    C.load("spec", seeds.write("spec", text.encode("utf-8", "surrogatepass")))
