"""Command-line interface: ``tsrnn <command>`` or ``python -m tsrnn <command>``.

Commands: ``selftest`` (check the kernels), ``warmup`` (compile them ahead of time), ``compare``
(rank forecasters on a series) and ``experiment`` (the RNN-vs-LSTM studies of
:mod:`tsrnn.experiments`).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import threading
import time
import warnings

import numpy as np

USAGE_ERROR = 2


class CLIError(Exception):
    """A problem with the command line or its inputs: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage dump) and exit code 2."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _selftest(args: argparse.Namespace) -> int:
    """Compile the kernels and check each one against the NumPy reference."""
    from . import functional as F
    from ._layout import CELLS

    rng = np.random.default_rng(0)
    print(f"{'cell':<9} {'dtype':<8} {'max |cpu - reference|':>22} {'first call':>11} {'warm call':>10}")
    worst = 0.0
    for cell in CELLS:
        for dtype in (np.float32, np.float64):
            w = F.init_weights(cell, 3, 16, random_state=0, dtype=dtype)
            x = rng.normal(size=(8, 24, 3)).astype(dtype)
            timings = []
            for _ in range(2):
                start = time.perf_counter()
                out, _, cache = F.forward(cell, x, w, device="cpu")
                grads = F.backward(cache, np.ones_like(out))
                timings.append(time.perf_counter() - start)
            out_ref, _, cache_ref = F.forward(cell, x, w, device="reference")
            grads_ref = F.backward(cache_ref, np.ones_like(out_ref))
            err = max(
                float(np.abs(out - out_ref).max()),
                *(
                    float(np.abs(grads[k] - grads_ref[k]).max() / max(np.abs(grads_ref[k]).max(), 1e-3))
                    for k in grads
                ),
            )
            worst = max(worst, err / (1e-4 if dtype == np.float32 else 1e-9))
            print(
                f"{cell:<9} {np.dtype(dtype).name:<8} {err:>22.2e} "
                f"{timings[0]:>10.2f}s {timings[1] * 1e3:>8.2f}ms"
            )
    ok = worst < 1.0
    print("all kernels agree with the reference" if ok else "MISMATCH: see the table above")
    return 0 if ok else 1


def _warmup(args: argparse.Namespace) -> int:
    """Compile (or load from Numba's cache) the CPU kernels of every cell, with a progress bar."""
    from tqdm.auto import tqdm

    from ._layout import CELLS
    from ._parallel import run_tasks
    from .nn import compile_kernels

    dtypes = ("float32", "float64") if args.dtype == "all" else (args.dtype,)
    cells = list(CELLS) if args.cells is None else [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        raise CLIError(f"unknown cell(s) {unknown or [args.cells]} in --cells; choose from {list(CELLS)}")
    keys = [(cell, dtype) for dtype in dtypes for cell in cells]
    start = time.perf_counter()
    calls = [(cell, dtype, "cpu") for cell, dtype in keys]
    # One process per (cell, dtype) set: they compile at once and share Numba's on-disk cache.
    # No more processes than sets (each would import the library for nothing); one set
    # compiles here, without a worker.
    jobs = min(args.jobs, len(keys))
    with tqdm(total=len(keys), disable=args.no_progress, desc="warmup", unit="kernel set") as pbar:
        for (cell, dtype), _ in zip(keys, run_tasks(compile_kernels, calls, jobs)):
            pbar.set_postfix_str(f"{cell} {dtype}")
            pbar.update(1)
    print(
        f"compiled or loaded the CPU kernels of {', '.join(cells)} in {', '.join(dtypes)} "
        f"in {time.perf_counter() - start:.1f} s; later runs load them from the cache"
    )
    return 0


# -- compare -------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _coverage(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text!r}")
    return value


def _quantiles(text: str) -> tuple[float, ...]:
    hint = "comma-separated increasing probabilities strictly between 0 and 1, such as 0.05,0.5,0.95"
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {hint}, got {text!r}") from None
    increasing = all(b > a for a, b in zip(values, values[1:]))  # noqa: RUF007 - tuples of floats
    if not values or not all(0.0 < v < 1.0 for v in values) or not increasing:
        raise argparse.ArgumentTypeError(f"expected {hint}, got {text!r}")
    return values


def _read_csv(path: str, time_col: str | None, target: str | None, freq: str | None):
    """A Series from a CSV file: the ``target`` column indexed by the ``time_col`` column."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CLIError(f"cannot read {path!r} as CSV: {str(exc).strip()}") from None
    for flag, col in (("--time-col", time_col), ("--target", target)):
        if col not in frame.columns:
            raise CLIError(f"{flag} {col!r} is not a column of {path!r}; columns: {list(frame.columns)}")
    if frame.empty:
        raise CLIError(f"{path!r} has a header but no data rows")
    times = frame[time_col]
    if pd.api.types.is_integer_dtype(times) and freq is None:
        # Integer steps (e.g. years 1700, 1701, ...): an evenly spaced integer index.
        index = pd.Index(times.to_numpy(), name=time_col)
        _check_times(index, time_col)
    else:
        if pd.api.types.is_integer_dtype(times):
            times = times.astype(str)  # years such as 1700 with --freq Y
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "could not infer format": the result is checked below
                stamps = pd.to_datetime(times)
        except (ValueError, TypeError) as exc:
            raise CLIError(
                f"--time-col {time_col!r} does not hold dates: {str(exc).splitlines()[0]}"
            ) from None
        index = pd.DatetimeIndex(stamps, name=time_col)
        _check_times(index, time_col)
        if freq is None:
            from .evaluation import regular_offset

            if regular_offset(index) is None:
                raise CLIError(
                    f"cannot infer a regular frequency from --time-col {time_col!r}; pass --freq "
                    "(e.g. --freq MS for monthly data stamped on the first, D for daily)"
                )
            freq = regular_offset(index)
        try:
            index = pd.DatetimeIndex(index, freq=freq)
        except ValueError as exc:
            raise CLIError(
                f"the timestamps of {time_col!r} do not follow --freq {freq}: {str(exc).splitlines()[0]}"
            ) from None
    values = pd.to_numeric(frame[target], errors="coerce")
    if values.isna().any():
        first = int(np.argmax(values.isna().to_numpy()))
        raise CLIError(
            f"--target {target!r} has {int(values.isna().sum())} missing or non-numeric value(s), the first "
            f"in data row {first + 1}; fill or remove them first"
        )
    return pd.Series(values.to_numpy(dtype=float), index=index, name=target)


def _check_times(index, time_col: str) -> None:
    """Duplicated or unsorted timestamps, reported before any frequency is inferred from them."""
    from .forecasting import check_time_index

    try:
        check_time_index(index, f"--time-col {time_col!r}")
    except ValueError as exc:
        # the pandas advice (sort_index, groupby) is for Python users: say what to do with the file
        raise CLIError(
            str(exc).split(";")[0] + "; sort the file by time and keep one row per timestamp"
        ) from None


def _check_input(args) -> list[str] | None:
    """The errors in ``compare``'s arguments that need no data, raised before any worker
    process starts; returns the ``--models`` names (None: the default set)."""
    from . import datasets

    if args.csv is not None and args.dataset is not None:
        raise CLIError("give either --dataset or --csv, not both")
    if args.csv is None and (args.time_col or args.target or args.freq):
        raise CLIError("--time-col, --target and --freq go with --csv")
    if args.csv is not None:
        if not args.time_col or not args.target:
            raise CLIError("--csv needs --time-col (the timestamps column) and --target (the values column)")
        if not os.path.isfile(args.csv):
            raise CLIError(f"cannot read {args.csv!r}: no such file")
    else:
        try:
            datasets.check_dataset_name(args.dataset or "sunspots")
        except (ValueError, TypeError) as exc:
            raise CLIError(str(exc)) from None
    if args.models is None:
        return None
    from .evaluation import MODELS

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise CLIError(f"unknown model(s) {unknown or [args.models]} in --models; choose from {list(MODELS)}")
    return models


def _load_input(args):
    """The series to compare and a label for it (arguments checked by :func:`_check_input`)."""
    import pandas as pd

    from . import datasets

    if args.csv is not None:
        return _read_csv(args.csv, args.time_col, args.target, args.freq), os.path.basename(args.csv)
    name = args.dataset or "sunspots"
    try:
        y = datasets.load(name)
    except ValueError as exc:  # a column macrodata does not have
        raise CLIError(str(exc)) from None
    if isinstance(y, pd.DataFrame):
        raise CLIError(
            f"dataset {name!r} has several columns; pick one, e.g. --dataset {name}.{y.columns[0]}"
        )
    return y, name


def _write_outputs(out_dir, summary, results, y, label, meta, coverage, command):
    from .evaluation import plot_forecasts, to_markdown

    try:
        os.makedirs(out_dir, exist_ok=True)
        results.to_csv(os.path.join(out_dir, "results.csv"), index=False)
        with open(os.path.join(out_dir, "summary.md"), "w", encoding="utf-8") as fh:
            fh.write(f"# tsrnn compare: {label}\n\n{meta}\n\nCommand: `{command}`\n\n")
            fh.write(to_markdown(summary) + "\n")
    except OSError as exc:
        raise CLIError(f"cannot write to --out {out_dir!r}: {exc.strerror or exc}") from None
    written = ["results.csv", "summary.md"]
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never open a window
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "note: matplotlib is not installed, so forecasts.png was not written; "
            "install it with pip install 'tsrnn[plot]'",
            file=sys.stderr,
        )
        return written
    try:
        fig = plot_forecasts(
            results,
            y,
            summary=summary,
            title=label,
            coverage=coverage,
            path=os.path.join(out_dir, "forecasts.png"),
        )
    except OSError as exc:
        raise CLIError(f"cannot write forecasts.png to --out {out_dir!r}: {exc.strerror or exc}") from None
    plt.close(fig)
    return [*written, "forecasts.png"]


def _import_pyplot() -> None:
    """Import pyplot with the file-only Agg backend (nothing when matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: never open a window
        import matplotlib.pyplot
    except ImportError:
        pass


def _more_seasons(periods, season) -> str:
    """ ", also 336 (...MSTL seasonally adjusted series)" when there are several seasons."""
    extra = [str(p) for p in periods if p != season]
    if not extra:
        return ""
    return (
        f", also {', '.join(extra)} (ARIMA, ETS, Theta and the recurrent models forecast the MSTL "
        "seasonally adjusted series)"
    )


def _compare(args: argparse.Namespace) -> int:
    from .evaluation import prepare_workers

    models = _check_input(args)
    # The worker processes start and import while this one reads the data and builds the models.
    workers = prepare_workers(args.jobs)
    from .evaluation import compare, format_table, format_time

    y, label = _load_input(args)
    device = None
    if args.device is not None:
        from .nn import resolve_backend

        try:  # resolved once here and passed down
            device = resolve_backend(args.device)
        except RuntimeError as exc:
            raise CLIError(f"--device {args.device}: {exc}") from None
    plotting = None
    if workers is not None:
        workers.join()
        if args.out is not None:
            # While the workers run the models this process only waits: it imports pyplot for
            # forecasts.png then, instead of after the last model.
            plotting = threading.Thread(target=_import_pyplot, name="tsrnn-pyplot", daemon=True)
            plotting.start()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            summary, results = compare(
                y,
                forecasters=models,
                horizon=args.horizon,
                n_windows=args.windows,
                step=args.step,
                seasonal_period=args.seasonal_period,
                coverage=args.coverage,
                n_jobs=args.jobs,
                progress=not args.no_progress,
                return_results=True,
                device=device,
                quantiles=args.quantiles,
            )
        except (ValueError, TypeError, ImportError) as exc:
            raise CLIError(str(exc).splitlines()[0]) from None
        except RuntimeError as exc:  # every model failed: nothing to report
            print(f"tsrnn compare: error: {str(exc).splitlines()[0]}", file=sys.stderr)
            return 1
    elapsed = time.perf_counter() - start
    # compare's own warnings (a model failed) are shown; the models' are only counted.
    notes = [
        str(w.message)
        for w in caught
        if issubclass(w.category, RuntimeWarning) and str(w.message).startswith("model ")
    ]
    adjusted = summary.attrs.get("note")
    season_note = summary.attrs.get("season_note")
    other = [w for w in caught if str(w.message) not in (*notes, adjusted, season_note)]

    horizon = summary.attrs["horizon"]
    season = summary.attrs["seasonal_period"]
    n_windows = int(summary["n_windows"].max())
    span = f"{format_time(results['timestamp'].min())} to {format_time(results['timestamp'].max())}"
    meta = (
        f"Rolling-origin backtest of {len(y)} observations: {n_windows} windows of {horizon} steps ({span}), "
        f"each model refit at every origin; {args.coverage:.0%} prediction intervals; quantiles "
        f"{', '.join(f'{q:g}' for q in summary.attrs['quantiles'])} (CRPS from them; Winkler: the "
        "interval score); "
        f"seasonal period: {season if season else 'none (no calendar season in the index)'}"
        f"{_more_seasons(summary.attrs.get('seasonal_periods', ()), season)}. "
        f"Metrics are averaged over windows; MASE is scaled by the in-sample "
        f"{'seasonal ' if season else ''}naive MAE of each window's training data; ranked by MASE."
    )
    print(f"tsrnn compare: {label} ({len(y)} observations)")
    if adjusted:
        print(f"note: {adjusted}")
    if season_note:
        print(f"note: {season_note}")
    print(meta)
    devices = summary.attrs.get("devices", {})
    for where in dict.fromkeys(devices.values()):
        names = ", ".join(name for name, label in devices.items() if label == where)
        print(f"device: the recurrent models ({names}) trained on {where}")
    print()
    print(format_table(summary))
    print()
    best = summary.index[0]
    print(f"best: {best} (MASE {summary['mase'].iloc[0]:.3f}); {len(summary)} models in {elapsed:.1f} s")
    for note in dict.fromkeys(notes):
        print(f"note: {note}", file=sys.stderr)
    if other:
        print(
            f"note: the models raised {len(other)} warning(s) (e.g. {other[0].category.__name__})",
            file=sys.stderr,
        )
    if args.out is not None:
        command = "tsrnn " + " ".join(shlex.quote(a) for a in args.argv)
        if plotting is not None:
            plotting.join()
        written = _write_outputs(args.out, summary, results, y, label, meta, args.coverage, command)
        print(f"wrote {', '.join(os.path.join(args.out, w) for w in written)}")
    return 0


# -- experiment ----------------------------------------------------------------------------------


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _int_list(text: str, minimum: int, example: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or min(values) < minimum:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers >= {minimum} such as {example}, got {text!r}"
        )
    return values


def _lags(text: str) -> tuple[int, ...]:
    return _int_list(text, 2, "10,100")


def _threads(text: str) -> tuple[int, ...]:
    return _int_list(text, 1, "1,2")


def _experiment(args: argparse.Namespace) -> int:
    from .experiments import EXPERIMENTS, cpu_seconds, run_experiment

    names = EXPERIMENTS if args.name == "all" else (args.name,)
    command = "tsrnn " + " ".join(shlex.quote(a) for a in args.argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CLIError(f"--out {args.out!r} is a file; give a directory (it is created if missing)")
    start_wall, start_cpu = time.perf_counter(), cpu_seconds()
    load_start = os.getloadavg()[0]
    sections = []
    for i, name in enumerate(names, start=1):
        print(f"[{i}/{len(names)}] {name}{' (quick)' if args.quick else ''} ...", flush=True)
        try:
            result = run_experiment(
                name,
                args.out,
                quick=args.quick,
                seed=args.seed,
                n_jobs=args.jobs,
                progress=not args.no_progress,
                command=command,
                task=args.task,
                n_seeds=args.seeds,
                lags=args.lags,
                forget_bias=args.forget_bias,
                blas_threads=args.blas_threads,
            )
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        except OSError as exc:
            raise CLIError(f"cannot write to --out {args.out!r}: {exc.strerror or exc}") from None
        sections.append(result["markdown"])
        print(
            f"[{i}/{len(names)}] {name}: {result['wall_seconds']:.1f} s wall, "
            f"{result['cpu_seconds']:.1f} s CPU; wrote "
            + ", ".join(os.path.join(args.out, f) for f in result["files"]),
            flush=True,
        )
    wall, cpu = time.perf_counter() - start_wall, cpu_seconds() - start_cpu
    if args.name == "all":
        header = (
            f"# tsrnn experiment all\n\nCommand: `{command}`\n\n"
            f"Total: {wall:.1f} s wall, {cpu:.1f} s CPU (this process and its workers) on "
            f"{os.cpu_count()} cores; load average {load_start:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end.\n\n"
        )
        try:
            with open(os.path.join(args.out, "summary.md"), "w", encoding="utf-8") as fh:
                fh.write(header + "\n".join(sections))
        except OSError as exc:
            raise CLIError(f"cannot write to --out {args.out!r}: {exc.strerror or exc}") from None
        print(f"wrote {os.path.join(args.out, 'summary.md')}")
    print(f"done: {len(names)} experiment(s) in {wall:.1f} s wall, {cpu:.1f} s CPU")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tsrnn", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("selftest", help="compile the kernels and check them against the reference")
    p.set_defaults(func=_selftest)
    p = sub.add_parser(
        "warmup",
        help="compile the CPU kernels once, ahead of the first run",
        description=(
            "Compile the CPU kernels of every cell (RNN tanh/ReLU, LSTM, GRU) into Numba's on-disk "
            "cache, in parallel processes, with a progress bar; later runs (tsrnn compare, fits) "
            "load them in milliseconds. Without it the first run compiles what it needs."
        ),
    )
    p.add_argument("--cells", metavar="LIST", help="comma-separated cells (default: all of them)")
    p.add_argument(
        "--dtype",
        choices=["float32", "float64", "all"],
        default="float32",
        help="the estimators' dtype to compile for (default: float32, the estimators' default)",
    )
    p.add_argument(
        "--jobs",
        type=_positive_int,
        default=os.cpu_count() or 1,
        help="parallel compiling processes, at most one per kernel set (default: the number of cores)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_warmup)

    from .datasets import dataset_names
    from .evaluation import MODELS
    from .kernels import DEVICES

    p = sub.add_parser(
        "compare",
        help="backtest forecasters (RNN/LSTM/GRU, ARIMA, ETS, Theta, HMM, naive) on a series and rank them",
        description=(
            "Rolling-origin backtest of several forecasters on one series; prints a table ranked by "
            "MASE and, with --out, writes results.csv, summary.md and forecasts.png. Without "
            "arguments: the default models on the yearly sunspots series."
        ),
    )
    src = p.add_argument_group("data (default: --dataset sunspots)")
    src.add_argument("--dataset", metavar="NAME", help=f"a shipped dataset: {', '.join(dataset_names())}")
    src.add_argument("--csv", metavar="PATH", help="a CSV file with a time column and a value column")
    src.add_argument(
        "--time-col", metavar="COL", help="with --csv: the column of timestamps (dates or integers)"
    )
    src.add_argument("--target", metavar="COL", help="with --csv: the column of values to forecast")
    src.add_argument(
        "--freq", metavar="F", help="with --csv: pandas frequency when it cannot be inferred (MS, D, h)"
    )
    ev = p.add_argument_group("evaluation")
    ev.add_argument(
        "--models", metavar="LIST", help=f"comma-separated, from: {','.join(MODELS)} (default: all fitting)"
    )
    ev.add_argument("--horizon", type=_positive_int, help="steps per forecast (default: one season, else 10)")
    ev.add_argument(
        "--windows",
        type=_positive_int,
        help="forecast origins (default: 5, fewer when the series is too short)",
    )
    ev.add_argument("--step", type=_positive_int, help="observations between origins (default: the horizon)")
    ev.add_argument(
        "--seasonal-period",
        type=_positive_int,
        help="season length (default: from the index frequency, with a second season for daily "
        "and sub-daily data; a number keeps that one season alone; 1: none)",
    )
    ev.add_argument("--coverage", type=_coverage, default=0.9, help="interval coverage (default: 0.9)")
    ev.add_argument(
        "--quantiles",
        type=_quantiles,
        metavar="LIST",
        help="quantile levels each model forecasts, scored by CRPS and shaded as a fan "
        "(default: the interval's ends and the median, 0.05,0.5,0.95 for --coverage 0.9)",
    )
    ev.add_argument(
        "--jobs",
        type=_positive_int,
        default=os.cpu_count() or 1,
        help="parallel jobs over models and windows (default: the number of cores); "
        "results do not depend on it",
    )
    ev.add_argument("--out", metavar="DIR", help="write results.csv, summary.md and forecasts.png there")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar")
    ev.add_argument(
        "--device",
        choices=DEVICES,
        help="where the recurrent models train (default: cpu; auto: a CUDA GPU when there is one)",
    )
    p.set_defaults(func=_compare)

    from .experiments import EXPERIMENTS

    p = sub.add_parser(
        "experiment",
        help="RNN vs LSTM vs GRU: gradient flow, long-range memory, clipping, convergence, cost",
        description=(
            "Run one of the RNN-vs-LSTM studies (or all) and write NAME.csv (tidy results), "
            "NAME_summary.csv, NAME.md (the summary table with the measured claims) and NAME.png into "
            "--out; 'all' also writes summary.md. See docs/rnn_vs_lstm.md."
        ),
    )
    p.add_argument("name", choices=[*EXPERIMENTS, "all"], help="which experiment")
    p.add_argument("--out", metavar="DIR", required=True, help="output directory (created if missing)")
    p.add_argument("--quick", action="store_true", help="tiny settings: a smoke run in seconds")
    p.add_argument(
        "--seed", type=_non_negative_int, default=0, help="first seed; experiments use seed, seed+1, ..."
    )
    p.add_argument(
        "--jobs",
        type=_positive_int,
        default=min(2, os.cpu_count() or 1),
        help="parallel worker processes for the training runs (default: 2, or 1 on one core); "
        "results do not depend on it",
    )
    p.add_argument(
        "--seeds",
        type=_positive_int,
        metavar="N",
        help="number of seeds (default: each experiment's own, 1 with --quick); cost uses one",
    )
    p.add_argument(
        "--task", choices=["adding", "copy"], default="adding", help="memory task (default: adding)"
    )
    p.add_argument(
        "--lags",
        type=_lags,
        metavar="LIST",
        help="memory lags, e.g. 100 or 10,50 (default: 10,25,50,100,200)",
    )
    p.add_argument(
        "--forget-bias",
        type=float,
        metavar="B",
        help="memory: initial LSTM forget-gate bias (default: the library's 1)",
    )
    p.add_argument(
        "--blas-threads",
        type=_threads,
        default=(1,),
        metavar="LIST",
        help="BLAS/OpenMP thread limit per training run (default: 1); the CPU kernels do not "
        "call BLAS and run on Numba's threads; for cost, a list such as 1,2 compares limits",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_experiment)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"tsrnn {args.command}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
