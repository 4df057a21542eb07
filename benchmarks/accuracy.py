"""Forecast accuracy of the default forecasters on real series, with a fixed tuning/reporting split.

Every series below ships with statsmodels (its ``datasets`` package and the data files of its own
test suite). Each is backtested with a rolling origin: ``n_windows`` forecasts of ``horizon``
steps, the last ending with the data, origins ``step`` apart. The MASE of a window is scaled by
the in-sample seasonal naive MAE of that window's training data (as in :mod:`tsrnn.metrics`);
a model's MASE on a series is the mean over its windows.

**The split** (fixed before any default was chosen, and recorded in benchmarks/ACCURACY.md):
within each frequency, the series are sorted by the SHA-256 hex digest of their name; those in
even positions (0, 2, ...) form the *tuning* half, those in odd positions the *reporting* half.
Defaults of every model (baselines included) are chosen on the tuning half only; the reported
figures come from the reporting half.

Reported: the geometric mean over series of the relative MASE (model / baseline) of each
recurrent model against each baseline (naive, ARIMA, ETS, Theta, HMM), per frequency and
overall, as the mean over seeds with the spread (sd, min-max) over seeds; and the time.

    python benchmarks/accuracy.py                      # reporting half, 3 seeds (the record)
    python benchmarks/accuracy.py --half tuning        # the half defaults are chosen on
    python benchmarks/accuracy.py --quick              # development subset (minutes)
    python benchmarks/accuracy.py --set lstm:estimator__hidden_size=16 --models lstm,naive

Runs over (series, model, seed) tasks with joblib (``--jobs``, default 2), one thread per task.
The process sets ``OMP_NUM_THREADS`` etc. to 1 for its workers (the parallelism is across
tasks) and unsets ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` for itself.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SEASON = {"yearly": None, "quarterly": 4, "monthly": 12}
HORIZON = {"yearly": 6, "quarterly": 8, "monthly": 12}  # the M4 competition's horizons
N_WINDOWS = 4
BASELINES = ["naive", "arima", "ets", "theta", "hmm"]
RECURRENT = ["rnn", "lstm", "gru"]

# --------------------------------------------------------------------------------------- data


def _sm_path(*parts: str) -> Path:
    import statsmodels

    return Path(statsmodels.__file__).parent.joinpath(*parts)


def _yearly(values, start: int) -> pd.Series:
    values = np.asarray(values, dtype=float)
    return pd.Series(values, index=pd.period_range(str(start), periods=len(values), freq="Y"))


def _quarterly(values, start: str) -> pd.Series:
    values = np.asarray(values, dtype=float)
    return pd.Series(values, index=pd.period_range(start, periods=len(values), freq="Q"))


def _monthly(values, start: str) -> pd.Series:
    values = np.asarray(values, dtype=float)
    return pd.Series(values, index=pd.period_range(start, periods=len(values), freq="M"))


def load_series() -> dict[str, tuple[str, pd.Series]]:
    """``{name: (frequency, series)}`` for every benchmark series."""
    import statsmodels.api as sm

    from tsrnn import datasets

    out: dict[str, tuple[str, pd.Series]] = {}
    # yearly
    out["sunspots"] = ("yearly", datasets.load("sunspots"))
    out["nile"] = ("yearly", datasets.load("nile"))
    fert = sm.datasets.fertility.load_pandas().data.set_index("Country Code")
    years = [c for c in fert.columns if c.isdigit()]
    for code in ("USA", "JPN", "BRA", "IND", "NGA", "KOR", "DEU", "EGY"):
        row = fert.loc[code, years].astype(float).dropna()
        out[f"fertility.{code}"] = ("yearly", _yearly(row.to_numpy(), int(row.index[0])))
    grun = sm.datasets.grunfeld.load_pandas().data
    for firm in ("General Motors", "US Steel", "General Electric", "Westinghouse"):
        g = grun[grun["firm"] == firm].sort_values("year")
        out[f"grunfeld.{firm.replace(' ', '_')}"] = ("yearly", _yearly(g["invest"], int(g["year"].iloc[0])))
    # quarterly
    macro = datasets.load("macrodata")
    for col in ("realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate", "unemp"):
        out[f"macrodata.{col}"] = ("quarterly", macro[col])
    for col in ("infl", "realint"):
        out[f"macrodata.{col}"] = ("quarterly", macro[col])
    dan = sm.datasets.danish_data.load_pandas().data
    for col in ("lrm", "lry", "lpy", "ibo", "ide"):
        out[f"danish.{col}"] = ("quarterly", _quarterly(dan[col], "1974Q1"))
    ii = sm.datasets.interest_inflation.load_pandas().data
    for col in ("Dp", "R"):
        out[f"interest_inflation.{col}"] = ("quarterly", _quarterly(ii[col], "1972Q2"))
    lut = pd.read_stata(_sm_path("tsa", "tests", "results", "lutkepohl2.dta"))
    for col in ("inv", "inc", "consump"):
        out[f"lutkepohl.{col}"] = ("quarterly", _quarterly(lut[col], "1960Q1"))
    rgnpq = pd.read_csv(_sm_path("tsa", "tests", "results", "rgnpq.csv")).iloc[:, 0]
    out["rgnp_quarterly"] = ("quarterly", _quarterly(rgnpq, "1947Q1"))
    # monthly
    out["co2_monthly"] = ("monthly", datasets.load("co2_monthly"))
    out["elnino"] = ("monthly", datasets.load("elnino"))
    elec = pd.read_csv(_sm_path("datasets", "elec_equip", "elec_equip.csv")).iloc[:, -1]
    out["elec_equip"] = ("monthly", _monthly(elec, "1996-01"))
    for f in ("UN", "BAA", "SP500"):
        s = pd.read_csv(_sm_path("tsa", "tests", "results", f"{f}.csv")).iloc[:, 0]
        out[f"schwert.{f}"] = ("monthly", _monthly(s, "1953-01"))
    for name, (freq, y) in out.items():
        y = y.astype(float)
        y.name = name
        out[name] = (freq, y)
    return out


def split(names_by_freq: dict[str, list[str]]) -> dict[str, str]:
    """The fixed split: per frequency, sort by SHA-256 of the name; even positions tune."""
    half = {}
    for names in names_by_freq.values():
        ordered = sorted(names, key=lambda s: hashlib.sha256(s.encode()).hexdigest())
        for i, name in enumerate(ordered):
            half[name] = "tuning" if i % 2 == 0 else "reporting"
    return half


def plan(n: int, freq: str) -> tuple[int, int]:
    """``(horizon, step)``: the frequency's horizon, shortened for short series (< 10 horizons)."""
    h = HORIZON[freq]
    if n < 10 * h:
        h = max(2, n // 10)
    return h, h


# ------------------------------------------------------------------------------------ models


class _StatsmodelsStandIn:
    """ETS/Theta straight from statsmodels, used only while tsrnn has no ETS/Theta forecaster."""

    def __init__(self, m):
        self.m = m

    def get_params(self, deep=True):
        return {"m": self.m}

    def set_params(self, **params):
        self.m = params.get("m", self.m)
        return self


class _ETSStandIn(_StatsmodelsStandIn):
    # automatic ETS: error, trend (none/additive/damped) and season chosen by AICc
    def fit(self, y):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        x = y.to_numpy(dtype=float)
        positive = bool(np.all(x > 0))
        season = self.m if self.m and len(x) >= 2 * self.m + 2 else None
        best = None
        for error in ("add", "mul") if positive else ("add",):
            for trend, damped in ((None, False), ("add", False), ("add", True)):
                for seasonal in (None, "add", "mul") if season else (None,):
                    if seasonal == "mul" and not positive:
                        continue
                    try:
                        r = ETSModel(
                            x,
                            error=error,
                            trend=trend,
                            damped_trend=damped,
                            seasonal=seasonal,
                            seasonal_periods=season if seasonal else None,
                        ).fit(disp=False, maxiter=200)
                    except Exception:
                        continue
                    if np.isfinite(r.aicc) and (best is None or r.aicc < best.aicc):
                        best = r
        self.result_ = best
        return self

    def predict(self, horizon):
        return pd.Series(np.asarray(self.result_.forecast(horizon)))


class _ThetaStandIn(_StatsmodelsStandIn):
    def fit(self, y):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        x = y.to_numpy(dtype=float)
        period = self.m if self.m and len(x) >= 2 * self.m else 1
        self.result_ = ThetaModel(x, period=period, deseasonalize=period > 1).fit()
        return self

    def predict(self, horizon):
        return pd.Series(np.asarray(self.result_.forecast(horizon)))


STAND_INS = {"ets": _ETSStandIn, "theta": _ThetaStandIn}

#: A control (``compare --models linear-ar``): the recurrent recipe without its network, so that
#: only the least-squares autoregression on the normalised window forecasts. Its gap to the
#: recurrent rows is what the networks add. Tabulated with them, one run (no random part).
LINEAR_CONTROL = "linear-ar"


@dataclass
class Task:
    series: str
    freq: str
    model: str
    seed: int | None
    params: dict


def make_model(name: str, m: int | None, horizon: int, seed: int | None, params: dict):
    """The forecaster ``compare`` runs under ``name`` (with ``params`` set), seeded."""
    from tsrnn.evaluation import MODELS, make_forecaster

    if name not in MODELS and name in STAND_INS:
        return STAND_INS[name](m)
    try:
        f = make_forecaster(name, m, horizon=horizon)
    except TypeError:
        f = make_forecaster(name, m)
    if params:
        f.set_params(**params)
    if seed is not None and "random_state" in f.get_params():
        f.set_params(random_state=seed)
    return f


def run_task(task: Task, y: pd.Series, horizon: int, step: int, n_windows: int) -> dict:
    from sklearn.base import clone

    from tsrnn.evaluation.metrics import mae, seasonal_naive_mae

    m = SEASON[task.freq]
    n = len(y)
    starts = [n - horizon - (n_windows - 1 - i) * step for i in range(n_windows)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    mases, failures = [], []
    model = make_model(task.model, m, horizon, task.seed, task.params)
    for start in starts:
        train, test = y.iloc[:start], y.iloc[start : start + horizon].to_numpy()
        scale = seasonal_naive_mae(train.to_numpy(), m or 1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = clone(model).fit(train).predict(horizon).to_numpy(dtype=float)
            if not np.all(np.isfinite(pred)):
                raise FloatingPointError("non-finite forecast")
        except Exception as exc:  # a failure is recorded and scored as the naive forecast
            failures.append(f"{type(exc).__name__}: {exc}"[:200])
            pred = np.repeat(train.iloc[-1], horizon)
        mases.append(mae(test, pred) / scale)
    return {
        "series": task.series,
        "freq": task.freq,
        "model": task.model,
        "seed": task.seed,
        "mase": float(np.mean(mases)),
        "failures": len(failures),
        "failure": failures[0] if failures else "",
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.perf_counter() - wall0,
    }


# ----------------------------------------------------------------------------------- summary


def gmean(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.exp(np.mean(np.log(x))))


def relative_table(res: pd.DataFrame, models: list[str], baselines: list[str]) -> pd.DataFrame:
    """Rows ``(model, group)``; per baseline: geometric-mean relative MASE, mean and sd over seeds."""
    base = res[res["model"].isin(baselines)].pivot_table(index="series", columns="model", values="mase")
    freq_of = res.drop_duplicates("series").set_index("series")["freq"]
    rows = []
    for model in models:
        sub = res[res["model"] == model]
        per_seed = sub.pivot_table(index="series", columns="seed", values="mase", dropna=False)
        groups = [("all", per_seed.index)] + [
            (f, per_seed.index[freq_of[per_seed.index] == f]) for f in SEASON if (freq_of == f).any()
        ]
        for group, idx in groups:
            if len(idx) == 0:
                continue
            row = {"model": model, "group": group, "n_series": len(idx)}
            for b in baselines:
                if b not in base.columns:
                    continue
                rel = per_seed.loc[idx].div(base.loc[idx, b], axis=0)
                g = np.array([gmean(rel[c]) for c in rel.columns])
                row[b] = g.mean()
                row[f"{b}_sd"] = g.std(ddof=1) if len(g) > 1 else 0.0
                row[f"{b}_min"], row[f"{b}_max"] = g.min(), g.max()
            rows.append(row)
    return pd.DataFrame(rows)


def fmt_table(table: pd.DataFrame, baselines: list[str]) -> str:
    head = "| model | series | n | " + " | ".join(f"vs {b}" for b in baselines) + " |"
    sep = "| :--- | :--- | ---: | " + " | ".join("---:" for _ in baselines) + " |"
    lines = [head, sep]
    for _, r in table.iterrows():
        cells = []
        for b in baselines:
            if b not in r or pd.isna(r[b]):
                cells.append("")
            elif r[f"{b}_sd"] > 0:
                cells.append(f"{r[b]:.3f} ± {r[f'{b}_sd']:.3f}")
            else:
                cells.append(f"{r[b]:.3f}")
        lines.append(f"| {r['model']} | {r['group']} | {r['n_series']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_ratios(res: pd.DataFrame, models: list[str], baselines: list[str], path: str) -> None:
    """One panel per baseline: each series' MASE ratio (model / baseline, MASE the mean over
    seeds) on a log axis, one marker per model, the series sorted by the first model's ratio
    and labelled with their frequency; the geometric mean of each model's ratios dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    mase = res.groupby(["series", "model"])["mase"].mean().unstack("model")
    freq_of = res.drop_duplicates("series").set_index("series")["freq"]
    baselines = [b for b in baselines if b in mase.columns]
    order = (mase[models[0]] / mase[baselines[0]]).sort_values().index
    height = 0.28 * len(order) + 2.2
    fig, axes = plt.subplots(1, len(baselines), figsize=(4.2 * len(baselines), height), sharey=True)
    axes = np.atleast_1d(axes)
    ypos = np.arange(len(order))
    markers = dict(zip(models, "osD^v<>"))
    for ax, b in zip(axes, baselines):
        ax.axvline(1.0, color="0.3", lw=1)
        ratios = {}
        for m in models:
            ratios[m] = (mase.loc[order, m] / mase.loc[order, b]).to_numpy()
            line = ax.plot(ratios[m], ypos, markers[m], ms=4.5, alpha=0.8, label=m)
            ax.axvline(gmean(ratios[m]), color=line[0].get_color(), ls="--", lw=1)
        ax.set_xscale("log")
        low, high = min(r.min() for r in ratios.values()), max(r.max() for r in ratios.values())
        steps = (
            (0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.5)
            if high / low < 3
            else (0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5)
        )
        ticks = [t for t in steps if low / 1.1 <= t <= high * 1.1]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        means = [f"{m} {gmean(r):.3f}" for m, r in ratios.items()]
        half = (len(means) + 1) // 2
        ax.set_title(
            f"MASE / MASE of {b}; geometric means (dashed):\n{', '.join(means[:half])}\n"
            f"{', '.join(means[half:])}",
            fontsize=8,
        )
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(ypos, [f"{s} ({freq_of[s][0]})" for s in order], fontsize=7)
    axes[0].invert_yaxis()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(models), fontsize=8)
    fig.suptitle(
        "Reporting half, per series (MASE averaged over seeds); left of 1: more accurate than the "
        "baseline; y/q/m: yearly, quarterly, monthly",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--half", choices=["tuning", "reporting", "all"], default="reporting")
    ap.add_argument("--models", default=None, help="comma-separated registry names (default: all)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the recurrent models (0..N-1)")
    ap.add_argument("--windows", type=int, default=N_WINDOWS)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="a third of the series, 1 seed, 2 windows")
    ap.add_argument("--series", default=None, help="comma-separated series names (a subset)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        help="MODEL:PARAM=VALUE (JSON value) set on a model, e.g. lstm:estimator__hidden_size=16",
    )
    ap.add_argument("--out", default=None, help="write the per-series results to this CSV")
    ap.add_argument(
        "--reuse", default=None, help="take the results of models not run from this CSV (an --out of before)"
    )
    ap.add_argument("--list", action="store_true", help="print the series and the split, then exit")
    ap.add_argument("--summarize", default=None, help="comma-separated --out CSVs: print their tables only")
    ap.add_argument(
        "--figure", default=None, help="write a PNG of each series' MASE ratios against ARIMA, ETS and Theta"
    )
    args = ap.parse_args(argv)

    from joblib import Parallel, delayed

    from tsrnn.evaluation import MODELS

    data = load_series()
    by_freq: dict[str, list[str]] = {}
    for name, (freq, _) in data.items():
        by_freq.setdefault(freq, []).append(name)
    half = split(by_freq)
    if args.list:
        for name, (freq, y) in data.items():
            h, step = plan(len(y), freq)
            print(f"{half[name]:9s} {freq:9s} {name:32s} n={len(y):4d} horizon={h} step={step}")
        return 0
    names = [s for s in data if args.half == "all" or half[s] == args.half]
    if args.series:
        names = [s for s in args.series.split(",") if s in data]
    seeds, n_windows = args.seeds, args.windows
    if args.quick:
        names, seeds, n_windows = names[::3], 1, 2
    models = args.models.split(",") if args.models else [*BASELINES, *RECURRENT]
    models = [m for m in models if m in MODELS or m in STAND_INS]
    params: dict[str, dict] = {}
    for item in args.set:
        target, _, kv = item.partition(":")
        key, _, value = kv.partition("=")
        for model in models if target == "*" else [target]:
            params.setdefault(model, {})[key] = json.loads(value)

    tasks = []
    for s in names:
        for model in models:
            recurrent = model in MODELS and MODELS[model].recurrent
            # the linear control has no random part: one run, tabulated with the recurrent rows
            for seed in range(seeds) if recurrent else [0] if model == LINEAR_CONTROL else [None]:
                tasks.append(Task(s, data[s][0], model, seed, params.get(model, {})))
    # the slowest first, so the pool is not left waiting on one long task at the end
    tasks.sort(key=lambda t: -len(data[t.series][1]) * (3 if t.seed is not None else 1))
    print(
        f"{len(names)} series ({args.half} half), models {models}, {seeds} seed(s), "
        f"{n_windows} windows, {len(tasks)} tasks on {args.jobs} job(s)",
        file=sys.stderr,
    )
    rec = [m for m in models if m in MODELS and MODELS[m].recurrent]
    if rec and not args.summarize:
        from tsrnn.estimators import warm_up

        warm_up([make_model(m, SEASON["monthly"], 12, 0, {}) for m in rec])
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if args.summarize:  # the tables of earlier runs' --out files, without running anything
        res = pd.concat([pd.read_csv(f) for f in args.summarize.split(",")], ignore_index=True)
        res = res[res["series"].isin(names)]
        res["seed"] = res["seed"].astype("Int64")
        models = list(dict.fromkeys(res["model"]))
        seeds = int(res["seed"].nunique()) or 1
    else:
        rows = Parallel(n_jobs=args.jobs, verbose=2)(
            delayed(run_task)(t, data[t.series][1], *plan(len(data[t.series][1]), t.freq), n_windows)
            for t in tasks
        )
        res = pd.DataFrame(rows)
    wall = time.perf_counter() - wall0
    if args.reuse:
        old = pd.read_csv(args.reuse)
        old = old[old["series"].isin(names) & ~old["model"].isin(models)]
        res = pd.concat([res, old], ignore_index=True)
        models = [*models, *[m for m in old["model"].unique() if m not in models]]
    if args.out:
        res.to_csv(args.out, index=False)
    cpu = res["cpu_s"].sum() + (time.process_time() - cpu0)

    baselines = [b for b in BASELINES if b in models]
    rec = [m for m in models if (m in MODELS and MODELS[m].recurrent) or m == LINEAR_CONTROL]
    if args.figure:
        plot_ratios(res, rec, [b for b in ("arima", "ets", "theta") if b in baselines], args.figure)
    print(f"\n## Geometric-mean relative MASE ({args.half} half), mean ± sd over {seeds} seed(s)\n")
    print(fmt_table(relative_table(res, rec, baselines), baselines))
    print("\n## Baselines: geometric-mean relative MASE against naive\n")
    print(
        fmt_table(
            relative_table(res.assign(seed=0), [b for b in baselines if b != "naive"], ["naive"]), ["naive"]
        )
    )
    per_model = res.groupby("model").agg(
        cpu_s=("cpu_s", "sum"), wall_s=("wall_s", "sum"), failures=("failures", "sum")
    )
    print("\n## Time per model (summed over tasks) and failed windows\n")
    print(per_model.round(1).to_string())
    for _, r in res[res["failures"] > 0].iterrows():
        print(f"- {r['model']} on {r['series']} (seed {r['seed']}): {r['failures']} failed: {r['failure']}")
    print(
        f"\nwall {wall:.0f} s, CPU {cpu:.0f} s (all tasks), {args.jobs} job(s); "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs; "
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
