"""Fuzzing the IDX reader: any bytes at all are either parsed into
consistent data (``len(data) == product(dims) × width``) or refused with
``IdxError``, never another exception. Deterministic (derandomized), and
bounded to a few hundred examples per test so it stays fast.
"""

import hashlib

import pytest

from idxfiles import gz, idx_bytes
from speedrun.idx import (MAGIC_IMAGES, MAGIC_LABELS, TYPES, IdxError,
                          parse_idx)

pytest.importorskip("hypothesis", reason="the fuzz tests need hypothesis: "
                                         "python -m pip install hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def product(sizes):
    total = 1
    for size in sizes:
        total *= size
    return total


def assert_consistent(array, expect_magic):
    width = TYPES[array.type_code][1]
    assert len(array.data) == product(array.dims) * width
    if expect_magic is not None:
        assert array.magic == expect_magic



FUZZ = settings(max_examples=300, derandomize=True, database=None,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
EXPECTATIONS = st.sampled_from([None, MAGIC_IMAGES, MAGIC_LABELS])
NAMES = st.sampled_from(["f", "f.gz"])


@st.composite
def idx_like(draw):
    """Bytes that start like IDX: a header of small sizes, then a payload
    of about the promised length, sometimes a few bytes off."""
    type_code = draw(st.sampled_from(sorted(TYPES) + [0x00, 0x0A]))
    dims = draw(st.lists(st.integers(0, 4), min_size=0, max_size=4))
    width = TYPES.get(type_code, ("", 1))[1]
    length = product(dims) * width + draw(st.sampled_from([0, 0, -1, 1, 4]))
    payload = draw(st.binary(min_size=max(length, 0),
                             max_size=max(length, 0)))
    blob = idx_bytes(type_code, dims, payload)
    return blob[:draw(st.integers(0, len(blob)))] if draw(
        st.booleans()) else blob


@st.composite
def damaged_gzip(draw):
    """A gzip stream of IDX-like bytes, cut short or with bytes changed."""
    packed = bytearray(gz(draw(idx_like())))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(packed) - 1))
        packed[at] = draw(st.integers(0, 255))
    return bytes(packed[:draw(st.integers(0, len(packed)))])


def parse_or_idx_error(blob, name, expect):
    try:
        array = parse_idx(blob, name, expect)
    except IdxError as exc:
        assert exc.path == name and exc.problem
        return
    assert_consistent(array, expect)


@FUZZ
@given(st.binary(max_size=64), NAMES, EXPECTATIONS)
def test_fuzz_any_bytes_parse_or_raise_idx_error(blob, name, expect):
    parse_or_idx_error(blob, name, expect)


@FUZZ
@given(idx_like(), NAMES, EXPECTATIONS)
def test_fuzz_idx_like_bytes_parse_or_raise_idx_error(blob, name, expect):
    parse_or_idx_error(blob, name, expect)


@FUZZ
@given(st.one_of(idx_like(), st.binary(max_size=64)), EXPECTATIONS)
def test_fuzz_gzip_wrapped_bytes_parse_or_raise_idx_error(blob, expect):
    parse_or_idx_error(gz(blob), "f.gz", expect)


@FUZZ
@given(damaged_gzip(), NAMES, EXPECTATIONS)
def test_fuzz_damaged_gzip_parse_or_raise_idx_error(blob, name, expect):
    parse_or_idx_error(blob, name, expect)


@FUZZ
@given(st.binary(min_size=1, max_size=64))
def test_fuzz_valid_files_read_back_exactly(payload):
    blob = idx_bytes(0x08, (len(payload), 1, 1), payload)
    for packed in (blob, gz(blob)):
        array = parse_idx(packed, "ok", MAGIC_IMAGES)
        assert array.data == payload
        assert array.sha256 == hashlib.sha256(blob).hexdigest()
