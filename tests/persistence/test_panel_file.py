"""tsrnn.save / tsrnn.load of Forecasters fitted on panels: identical forecasts after a round
trip (global and local scope, every kind of covariate), and inconsistent files refused."""

from __future__ import annotations

import io
import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import tsrnn
import tsrnn._persistence as persistence
from tsrnn import Forecaster
from tsrnn.estimators import RecurrentRegressor


def _panel(seed=0, lengths=(40, 52, 46), starts=(0, 3, 7)):
    """A ragged monthly panel, a future covariate (promotion), a past one and static attributes."""
    rng = np.random.default_rng(seed)
    frames, future, past = [], [], []
    for i, (n, s0) in enumerate(zip(lengths, starts)):
        ds = pd.date_range("2000-01-01", periods=n + s0 + 6, freq="MS")[s0:]
        promo = (rng.random(n + 6) < 0.3).astype(float)
        lead = rng.normal(size=n)
        y = 10 * (i + 1) + np.cumsum(rng.normal(size=n)) + 2 * promo[:n] + np.r_[0, lead[:-1]]
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds[:n], "y": y}))
        future.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "promo": promo}))
        past.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds[:n], "lead": lead}))
    static = pd.DataFrame({"unique_id": ["s0", "s1", "s2"], "size": [1.0, 2.5, 4.0], "kind": ["a", "b", "a"]})
    return pd.concat(frames), pd.concat(future), pd.concat(past), static


def _gru(**kw):
    return RecurrentRegressor(cell="gru", hidden_size=4, max_iter=3, random_state=0, **kw)


CASES = {
    "global recursive, future + static + calendar": (
        dict(window=4, calendar=("month",), diff=1),
        dict(X=True, static=True),
    ),
    "global direct, past + future, series id": (
        dict(
            window=5,
            strategy="direct",
            horizon=3,
            series_id=True,
            calendar_encoding="onehot",
            calendar="quarter",
        ),
        dict(X=True, past=True),
    ),
    "local recursive, auto differencing": (dict(window=4, scope="local", diff="auto"), dict()),
    "local direct, static": (dict(window=4, scope="local", strategy="direct", horizon=2), dict(static=True)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_panel_forecaster_round_trip_forecasts_identically(tmp_path, case):
    params, data = CASES[case]
    df, X, P, S = _panel()
    kw = {
        "X": X if data.get("X") else None,
        "past_covariates": P if data.get("past") else None,
        "static_covariates": S if data.get("static") else None,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 epochs do not converge
        f = Forecaster(_gru(loss="gaussian"), random_state=0, **params).fit(df, **kw)
    path = tmp_path / "panel.tsrnn"
    tsrnn.save(f, path)
    g = tsrnn.load(path)
    assert type(g) is Forecaster and g.get_params(deep=False).keys() == f.get_params(deep=False).keys()
    fx = {"X": X} if data.get("X") else {}
    want = f.predict(2, **fx)
    pd.testing.assert_frame_equal(g.predict(2, **fx), want)
    assert np.isfinite(want["y"]).all() and len(want) == 6
    # forecasting from other histories (a series never seen included, for a global model)
    history = df[df.ds <= "2003-01-01"]
    if params.get("scope") != "local" and not params.get("series_id"):
        history = pd.concat([history, history[history.unique_id == "s1"].assign(unique_id="new")])
        if data.get("static"):
            fx["static_covariates"] = pd.concat([S, S.iloc[[1]].assign(unique_id="new")])
        if data.get("X"):
            fx["X"] = pd.concat([X, X[X.unique_id == "s1"].assign(unique_id="new")])
    pd.testing.assert_frame_equal(g.predict(2, y=history, **fx), f.predict(2, y=history, **fx))
    # the probabilistic forecasts too (the head and the sampling are restored)
    q = f.predict_quantiles(2, (0.1, 0.9), random_state=1, **({"X": X} if data.get("X") else {}))
    pd.testing.assert_frame_equal(
        g.predict_quantiles(2, (0.1, 0.9), random_state=1, **({"X": X} if data.get("X") else {})), q
    )
    # and the loaded forecaster refits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.fit(df, **kw)


def _edited(data: bytes, edit) -> bytes:
    """The file with its JSON edited and its digest recomputed (a deliberate editor)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members[persistence.META])
    edit(meta["content"])
    arrays = {
        n[len(persistence.ARRAYS) : -len(".npy")]: np.lib.format.read_array(io.BytesIO(d))
        for n, d in members.items()
        if n.startswith(persistence.ARRAYS)
    }
    meta["sha256"] = persistence._digest(json.dumps(meta["content"], sort_keys=True), arrays)
    members[persistence.META] = json.dumps(meta).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def _objects(node, name):
    """Every stored object of class ``name`` in a JSON tree."""
    if isinstance(node, dict):
        if node.get("object") == name:
            yield node
        for v in node.values():
            yield from _objects(v, name)
    elif isinstance(node, list):
        for v in node:
            yield from _objects(v, name)


def _set(state: dict, key: str, value) -> None:
    state[key] = value


EDITS = {
    # the window the network reads no longer matches the one the model builds
    "window": (lambda c: _set(next(_objects(c, "GlobalModel"))["state"], "window", 7), "does not read"),
    # one series' timestamps are not those of its values
    "series length": (
        lambda c: next(_objects(c, "Panel"))["state"]["values"].append({"array": "a0"}),
        "one entry per series",
    ),
    "scope": (lambda c: _set(c["state"], "scope", "local"), "scope"),
    "series count": (lambda c: _set(c["state"], "n_series_", 5), "n_series_"),
    "covariate width": (
        lambda c: next(_objects(c, "Covariates"))["state"]["columns"].append("extra"),
        "shape|covariates",
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_inconsistent_panel_files_are_refused(tmp_path, edit):
    df, X, _, _ = _panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = Forecaster(_gru(), window=4).fit(df, X=X)
    path = tmp_path / "panel.tsrnn"
    tsrnn.save(f, path)
    change, message = EDITS[edit]
    bad = tmp_path / "bad.tsrnn"
    bad.write_bytes(_edited(path.read_bytes(), change))
    with pytest.raises(ValueError, match=f"not a valid tsrnn model file.*({message})"):
        tsrnn.load(bad)
