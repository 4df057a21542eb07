"""What the first machine with a GPU must answer about tsrnn's CUDA path, in one command.

Parts (each prints its findings; the exit status is 1 when a check fails):

``env``
    Driver and toolkit CUDA versions, the GPU and its compute capability, and what
    ``tsrnn.kernels.cuda_diagnosis()`` decides (the checks behind ``device="auto"``).
``correct``
    Every cell at realistic shapes -- W_hh in shared memory, W_hh in L1/L2 (not cached),
    idle batch rows and idle hidden units, split-K weight gradients, several waves of
    blocks, the hidden-split kernels at H=256 -- for each launch configuration (default,
    stepwise, 4 rows per thread, W_hh not cached, hidden split), float32 and float64, forward
    and backward against the float64 NumPy reference; each run twice, which must agree to
    the last bit.
``warn``
    A short ``fit(device="cuda")`` emits no ``NumbaPerformanceWarning``.
``overhead``
    Host microseconds per kernel launch (a forward+backward queued on device arrays, without
    waiting for the GPU, divided by its launches).
``kernels``
    CUDA-event GPU time per time step of forward+backward: persistent, hidden split and
    stepwise.
``train``
    Seconds per epoch of an LSTM regressor on the GPU against the CPU kernels.
``torch``
    cuDNN (``torch.nn.LSTM/GRU/RNN``) forward+backward on the same shapes, when a CUDA build
    of PyTorch is installed.

Usage::

    python benchmarks/gpu_check.py                  # all parts, realistic shapes
    python benchmarks/gpu_check.py correct warn     # some parts
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/gpu_check.py --tiny   # the script itself, in CI

``--tiny`` uses a few rows and units and blocks of a few threads, so the whole script runs in
numba's simulator (its timings mean nothing there). On hardware, also run NVIDIA's
compute-sanitizer on the small cases (commands in docs/cuda.md, "The first GPU run")::

    compute-sanitizer --tool memcheck  python benchmarks/gpu_check.py correct --tiny
    compute-sanitizer --tool racecheck python benchmarks/gpu_check.py correct --tiny
    compute-sanitizer --tool synccheck python benchmarks/gpu_check.py correct --tiny
    compute-sanitizer --tool initcheck python benchmarks/gpu_check.py correct --tiny
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARTS = ("env", "correct", "warn", "overhead", "kernels", "train", "torch")
CELLS = ("rnn_tanh", "rnn_relu", "lstm", "gru")
FORWARD_ARGS = ("x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0", "out", "aux", "gates")
BACKWARD_ARGS = (
    *FORWARD_ARGS,
    "d_out",
    "d_hn",
    "d_cn",
    "dx",
    "dw_ih",
    "dw_hh",
    "db_ih",
    "db_hh",
    "dh0",
    "dc0",
)
OUTPUTS = ("out", "aux", "gates", "dx", "dw_ih", "dw_hh", "db_ih", "db_hh", "dh0", "dc0")
# Largest |error| relative to the largest |expected| entry, against the float64 reference.
TOLERANCE = {"float64": 1e-9, "float32": 1e-3}

# (label, N, L, D, H): what each shape exercises with the default launch configuration.
SHAPES = (
    ("W_hh in shared memory", 64, 48, 8, 32),
    ("W_hh in L1/L2, idle rows", 33, 24, 4, 96),
    ("idle units (H=200), several waves", 520, 8, 4, 200),
    ("split-K weight gradients", 256, 64, 8, 64),
    ("hidden split (H=256, cooperative grid)", 64, 48, 8, 256),
)
TINY_SHAPES = (("tiny", 3, 4, 2, 5), ("tiny, idle units", 5, 3, 1, 7))


def launch_configs(tiny: bool):
    from tsrnn.kernels.cuda import LaunchConfig

    base = (
        dict(block=(2, 2), gemm_block=(2, 2), gemm_bk=2, aux_block=(2, 2), min_split_rows=2, target_blocks=8)
        if tiny
        else {}
    )
    return {
        "default": LaunchConfig(**base),
        "stepwise": LaunchConfig(path="stepwise", **base),
        "rows_per_thread=4": LaunchConfig(path="persistent", rows_per_thread=4, **base),
        "W_hh not cached": LaunchConfig(path="persistent", cache_weights=False, **base),
        "hidden split": LaunchConfig(path="split", split_units=2 if tiny else None, **base),
    }


def problem(cell: str, n: int, length: int, d: int, h: int, seed: int = 0) -> dict[str, np.ndarray]:
    """float64 inputs of one forward+backward (time-major), with zeroed outputs."""
    from tsrnn.functional import init_weights

    rng = np.random.default_rng(seed)
    g = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}[cell]
    w = init_weights(cell, d, h, random_state=seed, dtype=np.float64)
    lstm, gated = cell == "lstm", g > 1
    z = np.zeros
    a = {
        "x": rng.normal(size=(length, n, d)),
        "w_ih": w["weight_ih"],
        "w_hh": w["weight_hh"],
        "b_ih": w["bias_ih"],
        "b_hh": w["bias_hh"],
        "h0": rng.normal(scale=0.5, size=(n, h)),
        "c0": rng.normal(scale=0.5, size=(n, h)) if lstm else z((0, 0)),
        "out": z((length, n, h)),
        "aux": z((length, n, h)) if gated else z((0, 0, 0)),
        "gates": z((length, n, g * h)) if gated else z((0, 0, 0)),
        "d_out": rng.normal(size=(length, n, h)),
        "d_hn": rng.normal(size=(n, h)),
        "d_cn": rng.normal(size=(n, h)) if lstm else z((0, 0)),
    }
    for name, like in (
        ("dx", "x"),
        ("dw_ih", "w_ih"),
        ("dw_hh", "w_hh"),
        ("db_ih", "b_ih"),
        ("db_hh", "b_hh"),
    ):
        a[name] = z(a[like].shape)
    a["dh0"], a["dc0"] = z(a["h0"].shape), z(a["c0"].shape)
    return a


def run(backend, cell: str, arrays: dict, **kwargs) -> dict[str, np.ndarray]:
    """Forward and backward of ``backend`` on copies of ``arrays``, through the kernel
    contract's weights, buffers and gradient tuples on every backend."""
    a = {k: v.copy() for k, v in arrays.items()}
    from tsrnn.kernels import kernel_set

    forward, backward, _ = kernel_set(backend, cell)  # the contract's tuples on every backend
    weights, buffers, grads, d_weights = contract_tuples(a)
    forward(a["x"], weights, buffers, **kwargs)
    backward(a["x"], weights, buffers, grads, d_weights, **kwargs)
    return {k: a[k] for k in OUTPUTS}


def contract_tuples(a: dict) -> tuple:
    """``(weights, buffers, grads, d_weights)`` of the kernel contract from named arrays."""
    weights, buffers = tuple(a[k] for k in FORWARD_ARGS[1:5]), tuple(a[k] for k in FORWARD_ARGS[5:])
    grads = tuple(a[k] for k in ("d_out", "d_hn", "d_cn", "dx", "dh0", "dc0"))
    return weights, buffers, grads, tuple(a[k] for k in OUTPUTS[4:8])


def on_device(cell: str, arrays: dict, **kwargs) -> dict[str, np.ndarray]:
    from numba import cuda

    from tsrnn.kernels import cuda as backend

    d = {k: cuda.to_device(v) for k, v in arrays.items()}
    weights, buffers, grads, d_weights = contract_tuples(d)
    getattr(backend, f"{cell}_forward")(d["x"], weights, buffers, **kwargs)
    getattr(backend, f"{cell}_backward")(d["x"], weights, buffers, grads, d_weights, **kwargs)
    cuda.synchronize()
    return {k: d[k].copy_to_host() for k in OUTPUTS}


def part_env(args) -> bool:
    from numba import config

    from tsrnn.kernels import cuda_diagnosis

    diagnosis = cuda_diagnosis()
    if config.ENABLE_CUDASIM:
        print("numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1): no driver, toolkit or GPU to report")
    else:
        from numba import cuda
        from numba.cuda.cudadrv import driver, runtime

        print(f"toolkit (runtime) CUDA {runtime.runtime.get_version()}")
        try:
            print(f"driver supports CUDA {driver.driver.get_version()}")
            dev = cuda.get_current_device()
            print(
                f"GPU {dev.name}, compute capability {dev.compute_capability}, {dev.MULTIPROCESSOR_COUNT} SMs"
            )
        except Exception as exc:  # report, do not stop: the diagnosis below says what it means
            print(f"driver/GPU query failed: {exc}")
    print(f"cuda_diagnosis: {'usable' if diagnosis.problem is None else diagnosis.problem}")
    return diagnosis.problem is None


def part_correct(args) -> bool:
    from tsrnn.kernels import reference

    ok = True
    shapes = TINY_SHAPES if args.tiny else SHAPES
    cells = CELLS if not args.tiny else ("lstm", "gru", "rnn_relu")
    print(f"{'cell':<9} {'shape':<38} {'config':<18} {'dtype':<8} {'max rel err':>11} {'bit-identical':>13}")
    for cell in cells:
        for label, n, length, d, h in shapes:
            arrays = problem(cell, n, length, d, h)
            expected = run(reference, cell, arrays)
            for name, config in launch_configs(args.tiny).items():
                for dtype in ("float32", "float64"):
                    cast = {k: v.astype(dtype) for k, v in arrays.items()}
                    first = on_device(cell, cast, config=config)
                    second = on_device(cell, cast, config=config)
                    same = all(np.array_equal(first[k], second[k]) for k in OUTPUTS)
                    err = 0.0
                    for k in OUTPUTS:
                        scale = np.max(np.abs(expected[k])) if expected[k].size else 0.0
                        if scale:
                            err = max(err, float(np.max(np.abs(first[k] - expected[k])) / scale))
                    good = same and err < TOLERANCE[dtype]
                    ok &= good
                    shape = f"{label} ({n},{length},{d},{h})"
                    print(
                        f"{cell:<9} {shape:<38} {name:<18} {dtype:<8} {err:>11.2e} {same!s:>13}"
                        + ("" if good else "  FAIL")
                    )
    return ok


def _regression_data(tiny: bool):
    rng = np.random.default_rng(0)
    n, length = (40, 5) if tiny else (4096, 48)
    X = rng.normal(size=(n, length))
    return X, np.tanh(X[:, -1] + 0.5 * X[:, 0]) * 3


def _estimator(tiny: bool, device: str):
    from tsrnn.estimators import LSTMRegressor

    size = dict(hidden_size=4, batch_size=16) if tiny else dict(hidden_size=64, batch_size=64)
    return LSTMRegressor(max_iter=1 if tiny else 3, random_state=0, device=device, **size)


def part_warn(args) -> bool:
    from numba.core.errors import NumbaPerformanceWarning

    X, y = _regression_data(args.tiny)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _estimator(args.tiny, "cuda").fit(X, y)
    perf = [str(w.message) for w in caught if issubclass(w.category, NumbaPerformanceWarning)]
    others = sorted({w.category.__name__ for w in caught} - {"NumbaPerformanceWarning"})
    print(f"NumbaPerformanceWarning: {len(perf)} {perf[:3]}; other warnings: {others}")
    return not perf


def _launch_count(cell: str, arrays: dict, config) -> int:
    from tsrnn.kernels.cuda._layer import RecordingOps, backward, forward

    ops = RecordingOps(config)
    a = {k: v.copy() for k, v in arrays.items()}
    forward(cell, *(a[k] for k in FORWARD_ARGS), ops)
    backward(cell, *(a[k] for k in BACKWARD_ARGS), ops)
    return len(ops.launches)


def part_overhead(args) -> bool:
    from numba import cuda

    from tsrnn.kernels import cuda as backend
    from tsrnn.kernels.cuda import LaunchConfig, Workspace

    _label, n, length, d, h = (TINY_SHAPES if args.tiny else SHAPES)[0]
    arrays = {k: v.astype(np.float32) for k, v in problem("lstm", n, length, d, h).items()}
    config, ws, stream = LaunchConfig(), Workspace(), cuda.stream()
    dev = {k: cuda.to_device(v) for k, v in arrays.items()}
    weights, buffers, grads, d_weights = contract_tuples(dev)
    launches = _launch_count("lstm", arrays, config)
    repeats = 2 if args.tiny else 50
    best = float("inf")
    for _ in range(repeats + 1):
        stream.synchronize()
        start = time.perf_counter()
        backend.lstm_forward(dev["x"], weights, buffers, config=config, workspace=ws, stream=stream)
        backend.lstm_backward(
            dev["x"], weights, buffers, grads, d_weights, config=config, workspace=ws, stream=stream
        )
        best = min(best, time.perf_counter() - start)
    stream.synchronize()
    print(
        f"lstm forward+backward: {launches} launches, {best * 1e6 / launches:.1f} host µs per launch (best)"
    )
    return True


def part_kernels(args) -> bool:
    from numba import cuda

    from tsrnn.kernels import cuda as backend
    from tsrnn.kernels.cuda import LaunchConfig, Workspace

    shapes = TINY_SHAPES if args.tiny else SHAPES
    paths = ("persistent", "split", "stepwise")
    print(f"{'cell':<9} {'shape':<46}" + "".join(f" {p + ' µs/step':>19}" for p in paths))
    for cell in ("lstm", "gru"):
        for label, n, length, d, h in shapes:
            arrays = {k: v.astype(np.float32) for k, v in problem(cell, n, length, d, h).items()}
            dev = {k: cuda.to_device(v) for k, v in arrays.items()}
            weights, buffers, grads, d_weights = contract_tuples(dev)
            row = []
            for path in paths:
                config, ws, stream = LaunchConfig(path=path), Workspace(), cuda.stream()
                times = []
                for _ in range(2 if args.tiny else 5):
                    start, stop = cuda.event(), cuda.event()
                    start.record(stream)
                    launch = {"config": config, "workspace": ws, "stream": stream}
                    getattr(backend, f"{cell}_forward")(dev["x"], weights, buffers, **launch)
                    getattr(backend, f"{cell}_backward")(
                        dev["x"], weights, buffers, grads, d_weights, **launch
                    )
                    stop.record(stream)
                    stop.synchronize()
                    times.append(start.elapsed_time(stop) * 1e3 / length)
                row.append(min(times[1:] or times))
            print(
                f"{cell:<9} {label + f' ({n},{length},{d},{h})':<46}" + "".join(f" {v:>19.1f}" for v in row)
            )
    return True


def part_train(args) -> bool:
    X, y = _regression_data(args.tiny)
    seconds = {}
    for device in ("cpu", "cuda"):
        model = _estimator(args.tiny, device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)  # compiles
            start = time.perf_counter()
            model.fit(X, y)
        seconds[device] = (time.perf_counter() - start) / model.max_iter
    ratio = seconds["cpu"] / seconds["cuda"]
    print(
        f"LSTMRegressor epoch: cpu {seconds['cpu']:.3f} s, cuda {seconds['cuda']:.3f} s, cpu/cuda {ratio:.2f}"
    )
    return True


def part_torch(args) -> bool:
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: no cuDNN comparison")
        return True
    if not torch.cuda.is_available():
        print(f"PyTorch {torch.__version__} has no CUDA device: no cuDNN comparison")
        return True
    modules = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
    print(f"{'cell':<9} {'shape':<38} {'cuDNN fwd+bwd µs/step':>22}")
    for cell, module in modules.items():
        for label, n, length, d, h in SHAPES:
            layer = module(d, h).cuda()
            x = torch.randn(length, n, d, device="cuda", requires_grad=True)
            times = []
            for _ in range(5):
                start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                out, _ = layer(x)
                out.sum().backward()
                stop.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(stop) * 1e3 / length)
            print(f"{cell:<9} {label + f' ({n},{length},{d},{h})':<38} {min(times[1:]):>22.1f}")
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", help=f"any of {', '.join(PARTS)} (default: all)")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes and blocks (for the simulator)")
    args = parser.parse_args(argv)
    if unknown := set(args.parts) - set(PARTS):
        parser.error(f"unknown part(s) {sorted(unknown)}; choose from {', '.join(PARTS)}")
    import tsrnn

    if not tsrnn.cuda_available():
        from tsrnn.kernels import cuda_diagnosis

        print(f"CUDA cannot run here: {cuda_diagnosis().problem}")
        return 1
    from numba import config

    if config.ENABLE_CUDASIM:
        sys.setswitchinterval(1e-4)  # the simulator's barriers poll: switch threads often
        if not args.tiny:
            print("under the simulator only --tiny is practical")
            return 1
        import tsrnn.nn._cuda as device_training
        from tsrnn.kernels.cuda import LaunchConfig

        device_training.DEFAULT_CONFIG = LaunchConfig(
            block=(4, 2), gemm_block=(2, 2), aux_block=(4, 4), elementwise_threads=16, dropout_states=64
        )
    ok = True
    for part in args.parts or PARTS:
        print(f"\n== {part}")
        passed = globals()[f"part_{part}"](args)
        ok &= passed
        if not passed:
            print(f"{part}: FAILED")
    print("\nall checks passed" if ok else "\nsome checks FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
