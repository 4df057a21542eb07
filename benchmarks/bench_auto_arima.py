"""The automatic ARIMA before and after the CSS search, side by side on compare's windows.

"before" is ARIMAForecaster as it was on main before the CSS search (every candidate fitted by
exact ML, no order cap, no root check), loaded from ``git show <rev>:tsrnn/baselines/_arima.py``;
"after" is the current default (``search="css"``). Both run in this process, alternating per
window, on the same windows (``tsrnn compare``'s: the last ``n_windows`` blocks of ``horizon``).
Reports per-fit wall and CPU time and the MASE (in-sample naive scale, seasonal where there is a
season) per series, and the geometric means.

    python benchmarks/bench_auto_arima.py [--rev 3cf7fb7] [--series sunspots,nile,...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tsrnn import ARIMAForecaster, datasets  # noqa: E402
from tsrnn.evaluation import metrics  # noqa: E402
from tsrnn.evaluation._season import infer_seasonal_period  # noqa: E402

# series name -> (horizon, n_windows); compare's defaults: one season, or 10 steps, 5 windows
SERIES = {
    "sunspots": (10, 5),
    "nile": (10, 5),
    "macrodata.infl": (4, 5),
    "macrodata.unemp": (4, 5),
    "elnino": (12, 2),
}


def load_previous(rev: str):
    source = subprocess.run(
        ["git", "show", f"{rev}:tsrnn/baselines/_arima.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The previous class is only run here, never saved: keep it out of the model-file registry,
    # which refuses a second class named ARIMAForecaster.
    source = source.replace("\nregister(ARIMAForecaster)\n", "\n")
    module = types.ModuleType("tsrnn.baselines._arima_previous")
    module.__package__ = "tsrnn.baselines"
    sys.modules[module.__name__] = module
    exec(compile(source, f"{rev}:_arima.py", "exec"), module.__dict__)
    return module.ARIMAForecaster


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rev", default="3cf7fb7", help="git revision holding the previous ARIMA")
    parser.add_argument("--series", default=",".join(SERIES))
    args = parser.parse_args()
    previous = load_previous(args.rev)
    rows = []
    for name in args.series.split(","):
        y = datasets.load(name)
        if name == "elnino":
            y = y.iloc[
                -240:
            ]  # the last 20 years: the full series makes the old seasonal search minutes per fit
        m = infer_seasonal_period(y.index) or 1
        horizon, n_windows = SERIES[name]
        n = len(y)
        for w in range(n_windows):
            end = n - horizon * (n_windows - w)
            train, test = y.iloc[:end], y.iloc[end : end + horizon].to_numpy()
            season = m if m > 1 else None
            for label, cls in (("before", previous), ("after", ARIMAForecaster)):
                f = cls(seasonal_period=season)
                t0, c0 = time.perf_counter(), time.process_time()
                f.fit(train)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                pred = f.predict(horizon).to_numpy()
                score = metrics.mase(test, pred, y_train=train.to_numpy(), seasonal_period=m)
                rows.append((name, w, label, wall, cpu, score, f.order_, f.seasonal_order_, f.n_models_))
                print(
                    f"{name:16s} w{w} {label:6s} wall {wall:6.2f} s cpu {cpu:6.2f} s MASE {score:.3f} "
                    f"order {f.order_} {f.seasonal_order_} models {f.n_models_}",
                    flush=True,
                )
    print()
    print(
        "| series | fits | before: s/fit (CPU) | after: s/fit (CPU) | speed-up (CPU) "
        "| MASE before | MASE after |"
    )
    print("|---|---|---|---|---|---|---|")
    gm = lambda v: float(np.exp(np.mean(np.log(v))))  # noqa: E731
    all_b, all_a = [], []
    for name in dict.fromkeys(r[0] for r in rows):
        b = [r for r in rows if r[0] == name and r[2] == "before"]
        a = [r for r in rows if r[0] == name and r[2] == "after"]
        all_b += b
        all_a += a
        wb, wa = np.mean([r[3] for r in b]), np.mean([r[3] for r in a])
        cb, ca = np.mean([r[4] for r in b]), np.mean([r[4] for r in a])
        print(
            f"| {name} | {len(b)} | {wb:.2f} ({cb:.2f}) | {wa:.2f} ({ca:.2f}) "
            f"| {wb / wa:.1f}x ({cb / ca:.1f}x) "
            f"| {np.mean([r[5] for r in b]):.3f} | {np.mean([r[5] for r in a]):.3f} |"
        )
    wb, wa = np.mean([r[3] for r in all_b]), np.mean([r[3] for r in all_a])
    cb, ca = np.mean([r[4] for r in all_b]), np.mean([r[4] for r in all_a])
    print(
        f"| all | {len(all_b)} | {wb:.2f} ({cb:.2f}) | {wa:.2f} ({ca:.2f}) "
        f"| {wb / wa:.1f}x ({cb / ca:.1f}x) "
        f"| gm {gm([r[5] for r in all_b]):.3f} | gm {gm([r[5] for r in all_a]):.3f} |"
    )


if __name__ == "__main__":
    main()
