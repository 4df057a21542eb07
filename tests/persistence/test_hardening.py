"""Crafted and mutated model files: each is loaded or refused with a ValueError, fast and small.

The bounds (1 s, 100 MB of traced allocations) are far above what a refusal costs and far
below what the attacks cost before the checks existed (minutes and gigabytes, docs/reliability.md).
"""

from __future__ import annotations

import functools
import io
import json
import re
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsrnn._persistence as persistence
from tsrnn import (
    ARIMAForecaster,
    ETSForecaster,
    Forecaster,
    GRURegressor,
    HMMForecaster,
    ThetaForecaster,
    load,
    save,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SECONDS = 1.0
BYTES = 100 * 2**20


def load_or_error(path):
    try:
        return load(path)
    except ValueError as exc:
        return exc


def load_measured(path):
    """``(model or the ValueError, seconds, peak traced bytes)``: timed untraced, then traced."""
    start = time.perf_counter()
    result = load_or_error(path)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    try:
        again = load_or_error(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert type(again) is type(result)
    return result, seconds, peak


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def with_digest(members: dict[str, bytes], meta: dict) -> dict[str, bytes]:
    """Members with ``meta`` as the JSON and its digest recomputed, as a deliberate editor would."""
    arrays = {
        n[len(persistence.ARRAYS) : -len(".npy")]: np.lib.format.read_array(io.BytesIO(d))
        for n, d in members.items()
        if n.startswith(persistence.ARRAYS)
    }
    content_json = json.dumps(meta["content"], sort_keys=True, allow_nan=False)
    meta = {**meta, "sha256": persistence._digest(content_json, arrays)}
    return {**members, persistence.META: json.dumps(meta).encode()}


def monthly(n=72, seed=0):
    rng = np.random.default_rng(seed)
    values = 10 + np.sin(2 * np.pi * np.arange(n) / 12) + 0.1 * rng.normal(size=n)
    return pd.Series(values, index=pd.date_range("2000-01-01", periods=n, freq="MS"))


@functools.cache
def saved_bytes(kind: str) -> bytes:
    """A small saved model of each kind, built once per session."""
    import tempfile
    from pathlib import Path

    X = np.sin(np.arange(120.0) / 3).reshape(20, 6)
    make = {
        "regressor": lambda: GRURegressor(hidden_size=2, num_layers=2, max_iter=2, random_state=0).fit(
            X, X[:, -1]
        ),
        "unfitted": lambda: GRURegressor(hidden_size=1),
        "forecaster": lambda: Forecaster(
            GRURegressor(hidden_size=2, max_iter=2, random_state=0), window=4
        ).fit(monthly(40)),
        "panel": lambda: Forecaster(GRURegressor(hidden_size=2, max_iter=2, random_state=0), window=4).fit(
            {"a": monthly(40), "b": monthly(30, seed=1)}
        ),
        "arima": lambda: ARIMAForecaster(order=(1, 0, 1)).fit(monthly()),
        "hmm": lambda: HMMForecaster(order=1).fit(monthly()),
        "ets": lambda: ETSForecaster(seasonal_period=12, seasonal="add").fit(monthly()),
        "theta": lambda: ThetaForecaster(seasonal_period=12).fit(monthly()),
    }[kind]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.tsrnn"
        save(make(), path)
        return path.read_bytes()


@pytest.mark.parametrize(
    ("cell", "input_size", "hidden", "layers", "bidirectional", "outputs"),
    [("lstm", 1, 3, 1, False, 1), ("gru", 4, 2, 3, True, 2), ("rnn_relu", 2, 5, 2, False, 3)],
)
def test_network_size_without_a_layout_matches_the_layout(
    cell, input_size, hidden, layers, bidirectional, outputs
):
    from tsrnn._layout import network_n_params
    from tsrnn.nn import RecurrentNetwork

    net = RecurrentNetwork(cell, input_size, hidden, outputs, num_layers=layers, bidirectional=bidirectional)
    assert network_n_params(cell, input_size, hidden, layers, bidirectional, outputs) == net.layout.size
    assert net.layout.size == sum(int(np.prod(net.layout.shape(n))) for n in net.layout.names)
    if cell == "lstm":  # by hand: 4 gates of 3 units over 1 input + 3 recurrent, two biases, head 3 + 1
        assert net.layout.size == 4 * 3 * (1 + 3) + 2 * 4 * 3 + 3 + 1


# -- the two attacks of the audit ----------------------------------------------------------------


def test_a_million_layers_is_refused_fast_without_building_a_layout(tmp_path):
    data = saved_bytes("regressor")
    members = members_of(data)
    meta = json.loads(members[persistence.META])
    for pair in meta["content"]["state"]["_fitted_config"]["dict"]:
        if pair[0] in ("num_layers",):
            pair[1] = 10**6
        if pair[0] == "bidirectional":
            pair[1] = True
    meta["content"]["state"]["num_layers"] = 10**6
    path = tmp_path / "layers.tsrnn"
    path.write_bytes(zip_of(with_digest(members, meta)))
    result, seconds, peak = load_measured(path)
    assert isinstance(result, ValueError)
    assert "params_: must be a float32 vector of" in str(result)
    assert seconds < SECONDS and peak < BYTES, (seconds, peak)

    # the audit's own file: an unfitted estimator given a network description
    members = members_of(saved_bytes("unfitted"))
    meta = json.loads(members[persistence.META])
    meta["content"]["state"]["network_"] = {
        "network": {"cell": "gru", "input_size": 1, "hidden_size": 1, "output_size": 1, "num_layers": 10**6}
    }
    path.write_bytes(zip_of(with_digest(members, meta)))
    result, seconds, peak = load_measured(path)
    assert isinstance(result, ValueError) and "unknown entr" in str(result)
    assert seconds < SECONDS and peak < BYTES, (seconds, peak)


def nested_members_zip(n_members: int, payload: int) -> bytes:
    """A ZIP whose stored members' data regions nest: member i's bytes hold members i+1..n-1.

    Each member is a valid ``|u1`` ``.npy`` of exactly its member size with a correct CRC, so a
    reader that trusts the central directory reads about ``n_members`` times the payload.
    """
    meta = json.dumps({"format": persistence.FORMAT, "format_version": persistence.FORMAT_VERSION}).encode()
    meta_name = persistence.META.encode()
    names = [f"arrays/a{i}.npy".encode() for i in range(n_members)]

    def npy_header(n_bytes: int) -> bytes:
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "|u1", "fortran_order": False, "shape": (n_bytes,)}
        )
        return buf.getvalue()

    def local(name: bytes, crc: int, size: int) -> bytes:
        fields = (b"PK\x03\x04", 20, 0, 0, 0, 0, 0, crc, size, size, len(name), 0)
        return struct.pack("<4s2B4HL2L2H", *fields) + name

    hlen = len(npy_header(10**9))
    sizes = [0] * n_members  # len(D_i); D_i = H_i + LH_{i+1} + D_{i+1}, D_{n-1} = H_{n-1} + payload
    sizes[-1] = hlen + payload
    for i in range(n_members - 2, -1, -1):
        sizes[i] = hlen + 30 + len(names[i + 1]) + sizes[i + 1]
    d0 = bytearray()
    for i in range(n_members):
        header = npy_header(sizes[i] - hlen)
        assert len(header) == hlen
        if i:
            d0 += local(names[i], 0, sizes[i])  # CRC patched below
        d0 += header
    d0 += b"\x00" * payload
    assert len(d0) == sizes[0]
    crcs = [0] * n_members
    for i in range(n_members - 1, -1, -1):  # inside out: D_i holds LH_{i+1}, whose CRC is known
        start = len(d0) - sizes[i]
        if i + 1 < n_members:
            struct.pack_into("<L", d0, start + hlen + 14, crcs[i + 1])
        crcs[i] = zlib.crc32(memoryview(d0)[start:])
    out = bytearray(local(meta_name, zlib.crc32(meta), len(meta)) + meta)
    entries = [(meta_name, 0, zlib.crc32(meta), len(meta))]
    base = len(out)
    out += local(names[0], crcs[0], sizes[0]) + d0
    for i in range(n_members):
        offset = base if i == 0 else base + 30 + len(names[0]) + (len(d0) - sizes[i]) - 30 - len(names[i])
        entries.append((names[i], offset, crcs[i], sizes[i]))
    directory = bytearray()
    for name, offset, crc, size in entries:
        fields = (b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, crc, size, size, len(name), 0, 0, 0, 0, 0, offset)
        directory += struct.pack("<4s4B4HL2L5H2L", *fields) + name
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(out), 0
    )
    return bytes(out + directory + end)


def test_nested_members_are_refused_before_any_is_read(tmp_path):
    path = tmp_path / "nested.tsrnn"
    data = nested_members_zip(100, 2**20)
    path.write_bytes(data)
    # the crafted file is what the audit describes: zipfile itself reads every member in full
    with zipfile.ZipFile(path) as zf:
        sizes = [zf.getinfo(f"arrays/a{i}.npy").file_size for i in (0, 99)]
        assert sizes[0] > 2**20 and sum(i.file_size for i in zf.infolist()) > 100 * 2**20 > len(data)
        assert zf.read("arrays/a99.npy").startswith(b"\x93NUMPY")  # valid, CRC included
    result, seconds, peak = load_measured(path)
    assert isinstance(result, ValueError)
    assert "more than the file's" in str(result) or "overlap" in str(result)
    assert seconds < SECONDS and peak < BYTES, (seconds, peak)


def test_overlapping_and_duplicate_members_are_refused(tmp_path):
    members = members_of(saved_bytes("regressor"))
    path = tmp_path / "dup.tsrnn"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr(persistence.META, members[persistence.META])
    path.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="appears twice"):
        load(path)
    # two directory entries pointing at the same bytes under different names
    data = nested_members_zip(2, 64)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert len(zf.infolist()) == 3
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"overlap|more than the file"):
        load(path)


# -- property-based: mutated files --------------------------------------------------------------

KINDS = ["regressor", "forecaster", "panel", "arima", "hmm", "ets", "theta", "unfitted"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, 1, 2, -1, 10**6, 10**9, 2**31, 2**63])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["a0", "float64", "<f8", "|O", "O", "nan", "lstm", "inf", "cuda"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["array", "tuple", "dict", "ref", "object", "dtype", "x"]), inner, max_size=2
        )
    ),
    max_leaves=8,
)


def paths_of(value, prefix=()):
    """Every path into a JSON tree (dict keys and list positions)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths_of(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths_of(v, (*prefix, i))


def assert_loaded_or_refused(path):
    result, seconds, peak = load_measured(path)
    if not isinstance(result, ValueError):
        assert hasattr(result, "get_params")  # a model came back
    assert seconds < SECONDS and peak < BYTES, (seconds, peak)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_json_mutations_are_loaded_or_refused_quickly(tmp_path, kind, data):
    members = members_of(saved_bytes(kind))
    meta = json.loads(members[persistence.META])
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from([p for p in paths_of(meta["content"]) if p]))
        node = meta["content"]
        for key in path[:-1]:
            node = node[key]
        if data.draw(st.booleans()) and isinstance(node, dict):
            del node[path[-1]]
        else:
            node[path[-1]] = data.draw(json_values)
    fixed = data.draw(st.booleans())  # with the digest recomputed, or as damage
    out = with_digest(members, meta) if fixed else {**members, persistence.META: json.dumps(meta).encode()}
    file = tmp_path / f"{kind}.tsrnn"
    file.write_bytes(zip_of(out))
    assert_loaded_or_refused(file)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_zip_structure_mutations_are_loaded_or_refused_quickly(tmp_path, kind, data):
    raw = bytearray(saved_bytes(kind))
    # ZIP bookkeeping: every local header, the central directory and the end record
    starts = [m.start() for m in re.finditer(rb"PK(\x01\x02|\x03\x04|\x05\x06)", bytes(raw))]
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.sampled_from(starts)) + data.draw(st.integers(0, 45))
        width = data.draw(st.sampled_from([1, 2, 4]))
        value = data.draw(st.integers(0, 2 ** (8 * width) - 1))
        if at + width <= len(raw):
            raw[at : at + width] = value.to_bytes(width, "little")
    if data.draw(st.booleans()):  # and a cut, an appended copy or a duplicated directory
        how = data.draw(st.sampled_from(["cut", "append", "repeat-directory"]))
        if how == "cut":
            raw = raw[: data.draw(st.integers(0, len(raw)))]
        elif how == "append":
            raw = raw + raw
        else:
            cd = bytes(raw).rfind(b"PK\x01\x02")
            raw = raw[:cd] + raw[cd:] + raw[cd:]
    file = tmp_path / f"{kind}.tsrnn"
    file.write_bytes(bytes(raw))
    assert_loaded_or_refused(file)
