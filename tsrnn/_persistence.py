"""``tsrnn.save`` / ``tsrnn.load``: a model file that loads without executing code.

pickle and joblib remain the scikit-learn convention (every tsrnn model pickles), but
unpickling runs whatever code the file names, so a pickle from an untrusted source is unsafe.
A tsrnn model file holds only data:

- a ZIP archive (stored, not compressed) with one member ``tsrnn.json``, the description of the
  model as JSON (classes by name, parameters, scalars, lists), and one NumPy ``.npy`` member
  per array under ``arrays/`` (``numpy.load`` opens the file as an ``.npz``; any zip tool
  lists it);
- classes are looked up in a fixed table of tsrnn classes (nothing is imported by name), arrays
  are read with ``allow_pickle=False`` after their header is checked against the member size,
  and the JSON carries a SHA-256 digest of the content, so a damaged or edited file is
  rejected with a ``ValueError`` before anything is built;
- after loading, every array is checked against the shapes the model implies (the weight
  vector against the network layout, the scaling against the features, ...), so even a file
  with a recomputed digest cannot make the compiled kernels read out of bounds.

Supported: the recurrent estimators (:class:`~tsrnn.RecurrentRegressor`,
:class:`~tsrnn.RecurrentClassifier` and the LSTM/GRU/RNN classes, fitted or not, with their
optimizer state so ``partial_fit`` continues), :class:`~tsrnn.Forecaster` wrapping one of
them, :class:`~tsrnn.NaiveForecaster` and :class:`~tsrnn.PerSeriesForecaster` of those.
ARIMA and HMM forecasters hold statsmodels results objects, which only pickle can store: for
them :func:`save` raises a ``TypeError`` that says so.

Files record ``format_version``; a file from a newer (or unknown) version is refused with a
message naming both versions. Writing goes to a temporary file in the same directory that
replaces the destination only once complete (``os.replace``), so a crash or a full disk
never leaves a half-written model or destroys the previous one; an existing file is only
replaced with ``overwrite=True``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import uuid
import warnings
import zipfile
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FORMAT_VERSION", "load", "save"]

FORMAT = "tsrnn-model"
#: Version of the file layout written by :func:`save`; :func:`load` reads versions up to it.
FORMAT_VERSION = 1
META = "tsrnn.json"
ARRAYS = "arrays/"
_ARRAY_KINDS = "biufcUM"  # bool, ints, floats, complex, unicode, datetime64: no objects


class _Unsupported(TypeError):
    pass


def _registry() -> dict[str, type]:
    """The classes a file may name: the only ones :func:`load` ever instantiates."""
    from .baselines import NaiveForecaster
    from .estimators import (
        GRUClassifier,
        GRURegressor,
        LSTMClassifier,
        LSTMRegressor,
        RecurrentClassifier,
        RecurrentRegressor,
        RNNClassifier,
        RNNRegressor,
    )
    from .forecasting import Forecaster, PerSeriesForecaster
    from .forecasting._base import TargetInfo
    from .forecasting._forecaster import _Model
    from .forecasting._transforms import TargetTransform
    from .nn import SGD, Adam, History

    classes = [
        RecurrentRegressor,
        LSTMRegressor,
        GRURegressor,
        RNNRegressor,
        RecurrentClassifier,
        LSTMClassifier,
        GRUClassifier,
        RNNClassifier,
        Forecaster,
        PerSeriesForecaster,
        NaiveForecaster,
        TargetInfo,
        _Model,
        TargetTransform,
        History,
        Adam,
        SGD,
    ]
    return {cls.__name__: cls for cls in classes}


_PICKLE_ONLY = {
    "ARIMAForecaster": "holds statsmodels SARIMAX results",
    "HMMForecaster": "holds statsmodels Markov-switching results",
}


# ---------------------------------------------------------------------------------------- write


class _Writer:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.memo: dict[int, int] = {}
        self.objects = 0
        self.classes = _registry()

    def array(self, value: np.ndarray, where: str) -> dict:
        arr = np.asarray(value)
        extra = {}
        if arr.dtype.kind == "O":
            if not all(isinstance(v, str) for v in arr.ravel()):
                raise _Unsupported(f"{where} is an object array of non-strings, which only pickle can store")
            arr = arr.astype(str)
            extra = {"object": True}
        if arr.dtype.kind not in _ARRAY_KINDS:
            raise _Unsupported(f"{where} is an array of dtype {arr.dtype}, which only pickle can store")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = np.ascontiguousarray(arr)
        return {"array": name, **extra}

    def encode(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
            return int(value)
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, (float, np.floating)):
            value = float(value)
            return value if np.isfinite(value) else {"float": repr(value)}
        if isinstance(value, np.ndarray):
            return self.array(value, where)
        if isinstance(value, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {"tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, dict):
            return {
                "dict": [[self.encode(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in value.items()]
            }
        if isinstance(value, np.dtype):
            return {"dtype": value.str}
        if isinstance(value, type) and value in (np.float32, np.float64):
            return {"type": np.dtype(value).name}
        if isinstance(value, np.random.RandomState):
            kind, keys, pos, has_gauss, gauss = value.get_state()
            return {"random_state": [kind, self.array(keys, where), int(pos), int(has_gauss), float(gauss)]}
        if isinstance(value, pd.Index):
            return {"index": self.index(value, where)}
        if isinstance(value, pd.offsets.BaseOffset):
            return {"offset": value.freqstr}
        return self.obj(value, where)

    def index(self, index: pd.Index, where: str) -> dict:
        name = self.encode(index.name, f"{where}.name")
        if isinstance(index, pd.MultiIndex):
            raise _Unsupported(f"{where} is a MultiIndex, which this format does not store")
        if isinstance(index, pd.RangeIndex):
            return {
                "kind": "range",
                "start": index.start,
                "stop": index.stop,
                "step": index.step,
                "name": name,
            }
        if isinstance(index, pd.PeriodIndex):
            return {
                "kind": "period",
                "ordinals": self.array(index.asi8, where),
                "freq": index.freqstr,
                "name": name,
            }
        if isinstance(index, pd.DatetimeIndex):
            return {
                "kind": "datetime",
                # time-zone aware stamps as UTC instants (local wall times can be ambiguous)
                "values": self.array(
                    index.tz_convert("UTC").tz_localize(None).to_numpy() if index.tz else index.to_numpy(),
                    where,
                ),
                "tz": None if index.tz is None else str(index.tz),
                "freq": index.freqstr if index.freq is not None else None,
                "name": name,
            }
        values = index.to_numpy()
        if values.dtype.kind == "O":  # strings, or labels such as None: each stored as a JSON value
            scalars = (str, int, float, bool, type(None), np.integer, np.floating, np.bool_)
            if not all(isinstance(v, scalars) for v in values):
                raise _Unsupported(f"{where} is an index of objects, which this format does not store")
            return {"kind": "list", "values": [self.encode(v, where) for v in values], "name": name}
        return {"kind": "values", "values": self.array(values, where), "name": name}

    def obj(self, value: Any, where: str) -> dict:
        cls = type(value)
        name = cls.__name__
        if name in _PICKLE_ONLY and cls.__module__.startswith("tsrnn"):
            raise _Unsupported(
                f"{where}: {name} {_PICKLE_ONLY[name]}, which only pickle can store. Use "
                "joblib.dump(model, path) (and load such a file only from a source you trust), or "
                "keep its parameters (get_params()) and refit"
            )
        if self.classes.get(name) is not cls:
            hint = ""
            if hasattr(value, "fit") and hasattr(value, "predict"):
                hint = (
                    f"; a Forecaster can be saved with tsrnn's recurrent estimators, not with {name} "
                    "(use joblib.dump, or skops.io for scikit-learn models, for that)"
                )
            raise _Unsupported(f"{where} is a {cls.__module__}.{name}, which it does not store{hint}")
        key = id(value)
        if key in self.memo:  # the same object reached twice (e.g. Forecaster.estimator_ and its _model)
            return {"ref": self.memo[key]}
        self.memo[key] = ref = self.objects
        self.objects += 1
        state = {}
        source = (
            {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            if dataclasses.is_dataclass(value)
            else vars(value)
        )
        # In sorted order, as the JSON is written and read back: an object met twice is stored
        # once and referenced after, and the reader meets the two in the same order.
        for attr, item in sorted(source.items()):
            if attr == "network_":
                state[attr] = self.network(item, f"{where}.{attr}")
            else:
                state[attr] = self.encode(item, f"{where}.{attr}")
        return {"object": name, "id": ref, "state": state}

    def network(self, net, where: str) -> dict:
        from .nn import RecurrentNetwork

        if not isinstance(net, RecurrentNetwork):
            raise _Unsupported(f"{where} is a {type(net).__name__}, not a tsrnn RecurrentNetwork")
        # Rebuilt from its constructor arguments on load: the layout is derived, never read.
        return {
            "network": {
                "cell": net.cell,
                "input_size": net.input_size,
                "hidden_size": net.hidden_size,
                "output_size": net.output_size,
                "num_layers": net.num_layers,
                "bidirectional": net.bidirectional,
                "dropout": net.dropout,
                "dtype": net.dtype.name,
                "device": net.device,
            }
        }


def _digest(content_json: str, arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(content_json.encode("utf-8"))
    for name in sorted(arrays):
        arr = arrays[name]
        h.update(f"|{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def save(model, path, *, overwrite: bool = False) -> None:
    """Save a tsrnn model to ``path`` in a format that loads without executing code.

    Parameters
    ----------
    model : estimator or forecaster
        A recurrent estimator (fitted or not), a :class:`~tsrnn.Forecaster` wrapping one, a
        :class:`~tsrnn.NaiveForecaster`, or a :class:`~tsrnn.PerSeriesForecaster` of those.
    path : str or os.PathLike
        Destination file (any name; ``.tsrnn`` is a good extension).
    overwrite : bool, default=False
        Replace an existing file. Without it, an existing ``path`` raises ``FileExistsError``.

    Raises
    ------
    TypeError
        For a model (or a part of it, such as a scikit-learn regressor inside a Forecaster)
        that this format does not store; the message says what to use instead.
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.

    Notes
    -----
    The file is written to a temporary file next to ``path`` and renamed over it only when
    complete and flushed to disk, so an interrupted save leaves the previous file intact.
    See :mod:`tsrnn._persistence` for the layout and what :func:`load` checks.
    """
    from . import __version__

    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(
            f"{path!r} already exists; pass overwrite=True to replace it (the old file is only "
            "replaced once the new one is completely written)."
        )
    writer = _Writer()
    try:
        content = writer.encode(model, "model")
    except _Unsupported as exc:
        raise TypeError(f"cannot save {type(model).__name__} in the tsrnn model format: {exc}.") from None
    if not (isinstance(content, dict) and "object" in content):
        raise TypeError(f"save() stores tsrnn models, got {type(model).__name__}.")
    content_json = json.dumps(content, sort_keys=True, allow_nan=False)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tsrnn_version": __version__,
        "sha256": _digest(content_json, writer.arrays),
        "content": content,
    }
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    # os.open applies the umask, so the file gets the permissions of any newly created file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr(META, json.dumps(meta, sort_keys=True, allow_nan=False, indent=1))
                for name, arr in writer.arrays.items():
                    with zf.open(f"{ARRAYS}{name}.npy", "w", force_zip64=arr.nbytes > 2**30) as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------------------- read


class _Damaged(ValueError):
    pass


class _Incompatible(ValueError):
    pass


def _read_array(zf: zipfile.ZipFile, name: str) -> np.ndarray:
    member = f"{ARRAYS}{name}.npy"
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise _Damaged(f"the array {name!r} is missing") from None
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise _Damaged(f"array {name!r} has an unknown .npy version {version}")
        header = fh.tell() if fh.seekable() else None
    if dtype.hasobject or dtype.kind not in _ARRAY_KINDS:
        raise _Damaged(f"array {name!r} has dtype {dtype}, which a tsrnn model file never holds")
    # The header must not claim more data than the member holds (no allocation of what is not there).
    nbytes = math.prod(shape) * dtype.itemsize
    if header is None or nbytes != info.file_size - header:
        raise _Damaged(f"array {name!r} claims {nbytes} bytes but its member holds {info.file_size - header}")
    with zf.open(info) as fh:
        data = fh.read()
    arr = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    return np.array(arr, order="C")  # writable, C-contiguous: what the kernels expect


class _Reader:
    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.classes = _registry()
        self.objects: dict[int, Any] = {}
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, spec: dict) -> np.ndarray:
        name = spec["array"]
        if not isinstance(name, str):
            raise _Damaged("an array reference is not a name")
        if name not in self.arrays:
            self.arrays[name] = _read_array(self.zf, name)
        arr = self.arrays[name]
        if spec.get("object"):
            arr = arr.astype(object)
        return arr

    def decode(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict) or len(value) == 0:
            raise _Damaged(f"unexpected value {value!r}")
        if "array" in value:
            return self.array(value)
        if "float" in value:
            if value["float"] not in ("nan", "inf", "-inf"):
                raise _Damaged(f"bad float {value['float']!r}")
            return float(value["float"])
        if "tuple" in value:
            return tuple(self.decode(v) for v in value["tuple"])
        if "dict" in value:
            out = {}
            for pair in value["dict"]:
                k, v = pair
                k = self.decode(k)
                if isinstance(k, list):
                    raise _Damaged("a dict key is a list")
                out[k] = self.decode(v)
            return out
        if "dtype" in value:
            dtype = np.dtype(value["dtype"])
            if dtype.kind not in _ARRAY_KINDS:
                raise _Damaged(f"dtype {dtype} is not allowed")
            return dtype
        if "type" in value:
            return {"float32": np.float32, "float64": np.float64}[value["type"]]
        if "random_state" in value:
            kind, keys, pos, has_gauss, gauss = value["random_state"]
            rng = np.random.RandomState()
            rng.set_state(
                (str(kind), self.array(keys).astype(np.uint32), int(pos), int(has_gauss), float(gauss))
            )
            return rng
        if "index" in value:
            return self.index(value["index"])
        if "offset" in value:
            return pd.tseries.frequencies.to_offset(str(value["offset"]))
        if "network" in value:
            return self.network(value["network"])
        if "ref" in value:
            return self.objects[int(value["ref"])]
        if "object" in value:
            return self.obj(value)
        raise _Damaged(f"unknown entry {sorted(value)}")

    def index(self, spec: dict) -> pd.Index:
        kind, name = spec["kind"], self.decode(spec["name"])
        if kind == "range":
            return pd.RangeIndex(int(spec["start"]), int(spec["stop"]), int(spec["step"]), name=name)
        if kind == "period":
            ordinals = self.array(spec["ordinals"]).astype(np.int64)
            return pd.PeriodIndex(
                pd.arrays.PeriodArray(ordinals, dtype=pd.PeriodDtype(spec["freq"])), name=name
            )
        if kind == "datetime":
            values = self.array(spec["values"])
            if values.dtype.kind != "M":
                raise _Damaged("a DatetimeIndex holds non-dates")
            index = pd.DatetimeIndex(values, name=name)
            if spec["tz"] is not None:
                index = index.tz_localize("UTC").tz_convert(str(spec["tz"]))
            if spec["freq"] is not None:
                index = pd.DatetimeIndex(index, freq=str(spec["freq"]))
            return index
        if kind == "list":
            values = [self.decode(v) for v in spec["values"]]
            if any(isinstance(v, (list, dict, tuple)) for v in values):
                raise _Damaged("an index label is not a scalar")
            return pd.Index(values, name=name)
        if kind == "values":
            return pd.Index(self.array(spec["values"]), name=name)
        raise _Damaged(f"unknown index kind {kind!r}")

    def network(self, spec: dict):
        from .nn import RecurrentNetwork

        args = {k: spec[k] for k in ("cell", "input_size", "hidden_size", "output_size", "num_layers")}
        kwargs = {"bidirectional": bool(spec["bidirectional"]), "dropout": float(spec["dropout"])}
        dtype = {"float32": np.float32, "float64": np.float64}[spec["dtype"]]
        try:
            return RecurrentNetwork(**args, **kwargs, dtype=dtype, device=spec["device"])
        except (ValueError, TypeError, RuntimeError, ImportError) as exc:
            if spec["device"] == "cpu":
                raise
            warnings.warn(
                f"the model was saved with device={spec['device']!r}, which is not available here "
                f"({exc}); it runs on the CPU.",
                UserWarning,
                stacklevel=4,
            )
            return RecurrentNetwork(**args, **kwargs, dtype=dtype, device="cpu")

    def obj(self, value: dict) -> Any:
        name = value["object"]
        cls = self.classes.get(name) if isinstance(name, str) else None
        if cls is None:
            raise _Damaged(f"it names a class {name!r} that a tsrnn model file may not hold")
        ref = int(value["id"])
        obj = cls.__new__(cls)
        self.objects[ref] = obj
        state = value["state"]
        if not isinstance(state, dict):
            raise _Damaged(f"the state of a {name} is not a mapping")
        decoded = {}
        for attr, item in state.items():
            if not (isinstance(attr, str) and attr.isidentifier() and not attr.startswith("__")):
                raise _Damaged(f"bad attribute name {attr!r}")
            decoded[attr] = self.decode(item)
        if dataclasses.is_dataclass(cls):
            fields = {f.name for f in dataclasses.fields(cls)}
            if set(decoded) != fields:
                raise _Damaged(f"{name} needs the fields {sorted(fields)}, got {sorted(decoded)}")
        obj.__dict__.update(decoded)
        return obj


def load(path):
    """Load a model written by :func:`save`, without executing code from the file.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    estimator or forecaster
        The model as it was saved: fitted models predict (and continue training) as before.

    Raises
    ------
    ValueError
        If the file is not a tsrnn model file, is truncated or damaged, was modified after it
        was written (its SHA-256 digest no longer matches), comes from an incompatible
        ``format_version``, or describes an inconsistent model. The message says which.
    FileNotFoundError
        If ``path`` does not exist.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    what = f"{path!r} is not a valid tsrnn model file"
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{what}: it is not a complete ZIP archive ({exc}); it may be truncated.") from None
    try:
        with zf:
            return _load(zf, path, what)
    except _Incompatible as exc:
        raise ValueError(str(exc)) from None
    except (
        ValueError,
        zipfile.BadZipFile,
        EOFError,
        OSError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        RecursionError,
    ) as exc:
        # whatever a damaged file trips over while being read, the caller gets one clear error
        detail = str(exc).rstrip(".") or type(exc).__name__
        raise ValueError(f"{what}: {detail}.") from None


def _load(zf: zipfile.ZipFile, path: str, what: str):
    from . import __version__

    for info in zf.infolist():
        if info.compress_type != zipfile.ZIP_STORED:
            raise _Damaged(f"member {info.filename!r} is compressed; tsrnn writes stored members only")
    try:
        raw = zf.read(META)
    except KeyError:
        raise _Damaged(f"it has no {META} member (is it a tsrnn model file?)") from None
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Damaged(f"{META} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Damaged(f"{META} does not describe a {FORMAT} file")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise _Incompatible(
            f"{path!r} was written by tsrnn {meta.get('tsrnn_version', '?')} in model format version "
            f"{version!r}, but this tsrnn ({__version__}) reads format versions 1 to {FORMAT_VERSION}; "
            "load it with the tsrnn version that wrote it (or a newer one)."
        )
    content = meta.get("content")
    reader = _Reader(zf)
    names = sorted(
        n[len(ARRAYS) : -len(".npy")] for n in zf.namelist() if n.startswith(ARRAYS) and n.endswith(".npy")
    )
    arrays = {name: reader.array({"array": name}) for name in names}
    content_json = json.dumps(content, sort_keys=True, allow_nan=False)
    if _digest(content_json, arrays) != meta.get("sha256"):
        raise _Damaged(
            "its content does not match the SHA-256 digest recorded when it was saved: the file "
            "was modified or damaged after it was written"
        )
    model = reader.decode(content)
    _check_model(model, "model")
    return model


# ------------------------------------------------------------------------------ consistency


def _fail(where: str, message: str):
    raise _Damaged(f"{where}: {message}")


def _check_vector(value, where: str, size: int, *, positive: bool = False, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if not (isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.shape == (size,)):
        _fail(where, f"expected a float array of shape ({size},), got {_describe(value)}")
    if not np.all(np.isfinite(value)) or (positive and not np.all(value > 0)):
        _fail(where, "holds invalid values")


def _describe(value) -> str:
    from ._validation import describe

    return describe(value)


def _check_model(model, where: str) -> None:
    """Refuse a loaded model whose arrays do not fit together (what the kernels rely on)."""
    from .baselines import NaiveForecaster
    from .estimators._base import BaseRecurrent
    from .forecasting import Forecaster, PerSeriesForecaster

    if isinstance(model, BaseRecurrent):
        _check_recurrent(model, where)
    elif isinstance(model, Forecaster):
        _check_forecaster(model, where)
    elif isinstance(model, NaiveForecaster):
        _check_naive(model, where)
    elif isinstance(model, PerSeriesForecaster):
        _check_params(model, where)
        check = getattr(model, "forecasters_", None)
        if check is not None:
            if not isinstance(check, dict):
                _fail(where, "forecasters_ is not a mapping")
            for key, f in check.items():
                _check_model(f, f"{where}[{key!r}]")
        _check_model(model.forecaster, f"{where}.forecaster")
    else:
        _fail(where, f"a {type(model).__name__} cannot be the model of a file")


def _check_params(est, where: str) -> None:
    """The constructor parameters must all be present (and, for estimators, valid)."""
    import inspect

    names = [p for p in inspect.signature(type(est).__init__).parameters if p != "self"]
    missing = [p for p in names if p not in vars(est)]
    if missing:
        _fail(where, f"parameters {missing} are missing")
    # scikit-learn's declared constraints, or the forecaster's own parameter check
    validate = getattr(
        est, "_validate_params" if hasattr(est, "_parameter_constraints") else "_check_params", None
    )
    if validate is not None:
        try:
            validate()
        except (ValueError, TypeError) as exc:
            _fail(where, f"invalid parameters ({exc})")


def _check_recurrent(est, where: str) -> None:
    from .nn import SGD, Adam, History, RecurrentNetwork

    _check_params(est, where)
    if not hasattr(est, "params_"):
        return
    net = est.network_
    if not isinstance(net, RecurrentNetwork):
        _fail(where, "network_ is not a network")
    if net.cell != est._cell_name():
        _fail(where, f"the network is a {net.cell} but the estimator a {est._cell_name()}")
    for attr in ("hidden_size", "num_layers", "bidirectional"):
        if getattr(net, attr) != getattr(est, attr):
            _fail(where, f"the network's {attr} differs from the estimator's")
    if net.dtype != np.dtype(est.dtype):
        _fail(where, "the network's dtype differs from the estimator's")
    p = est.params_
    if not (isinstance(p, np.ndarray) and p.dtype == net.dtype and p.shape == (net.n_params,)):
        _fail(where, f"params_ must be a {net.dtype} vector of {net.n_params} weights, got {_describe(p)}")
    if not np.all(np.isfinite(p)):
        _fail(where, "params_ holds NaN or infinite weights")
    d = est.input_size_
    if not (
        isinstance(d, int)
        and d == net.input_size
        and isinstance(est.n_timesteps_, int)
        and est.n_timesteps_ >= 1
    ):
        _fail(where, "input_size_ / n_timesteps_ do not match the network")
    x_ndim = est._x_ndim
    static = getattr(est, "static_features", 0)
    if x_ndim == 2:
        expected_features = est.n_timesteps_ * (d - static) + static
    else:
        expected_features = d if getattr(est, "channels_first", False) else est.n_timesteps_
    if x_ndim not in (2, 3) or est.n_features_in_ != expected_features:
        _fail(where, "n_features_in_ does not match n_timesteps_ and input_size_")
    _check_vector(est.input_mean_, f"{where}.input_mean_", d)
    _check_vector(est.input_scale_, f"{where}.input_scale_", d, positive=True)
    if (est.input_mean_ is None) != (est.input_scale_ is None):
        _fail(where, "input_mean_ and input_scale_ must both be set or both be None")
    if hasattr(est, "classes_"):
        classes = est.classes_
        if not (
            isinstance(classes, np.ndarray) and classes.ndim == 1 and len(classes) == net.output_size >= 2
        ):
            _fail(where, "classes_ does not match the network's outputs")
    else:
        m = est.n_outputs_
        if not (isinstance(m, int) and m == net.output_size):
            _fail(where, "n_outputs_ does not match the network's outputs")
        _check_vector(est.target_mean_, f"{where}.target_mean_", m)
        _check_vector(est.target_scale_, f"{where}.target_scale_", m, positive=True)
        if not isinstance(est._y_one_d, bool) or (est._y_one_d and m != 1):
            _fail(where, "_y_one_d does not match n_outputs_")
    opt = getattr(est, "_optimizer", None)
    if opt is not None:
        if not isinstance(opt, (Adam, SGD)):
            _fail(where, "_optimizer is not an optimizer")
        for name, value in vars(opt).items():
            if isinstance(value, np.ndarray) and value.shape != p.shape:
                _fail(where, f"the optimizer's {name} does not match params_")
    if not isinstance(getattr(est, "_history", None), History):
        _fail(where, "_history is missing")
    if not isinstance(getattr(est, "_rng", None), np.random.RandomState):
        _fail(where, "_rng is missing")


def _check_target_info(f, where: str, n: int, m: int) -> None:
    from .forecasting._base import TargetInfo

    info = f.target_info_
    if not isinstance(info, TargetInfo) or not isinstance(info.index, pd.Index) or len(info.index) != n:
        _fail(where, "target_info_ does not match the history")
    if len(info.columns) != m:
        _fail(where, "target_info_.columns does not match the number of series")


def _check_forecaster(f, where: str) -> None:
    from .estimators._base import BaseRecurrent
    from .forecasting._forecaster import _Model
    from .forecasting._transforms import TargetTransform

    _check_params(f, where)
    if f.estimator is not None:
        if not isinstance(f.estimator, BaseRecurrent):
            _fail(where, "the estimator is not a tsrnn recurrent estimator")
        _check_model(f.estimator, f"{where}.estimator")
    if not hasattr(f, "history_"):
        return
    h = f.history_
    if not (
        isinstance(h, np.ndarray) and h.dtype == np.float64 and h.ndim == 2 and h.shape[1] == f.n_series_
    ):
        _fail(where, "history_ does not match n_series_")
    if not np.all(np.isfinite(h)):
        _fail(where, "history_ holds NaN or infinite values")
    n, m = h.shape
    _check_target_info(f, where, n, m)
    p = 0 if f.exog_columns_ is None else len(f.exog_columns_)
    if f.exog_history_ is not None and f.exog_history_.shape != (n, p):
        _fail(where, "exog_history_ does not match the history")
    for attr in ("_model", "calibration_model_"):
        model = getattr(f, attr, None)
        if model is None and attr == "calibration_model_":
            continue
        if not isinstance(model, _Model) or not isinstance(model.transform, TargetTransform):
            _fail(where, f"{attr} is not a fitted pipeline")
        t = model.transform
        _check_vector(t.mean_, f"{where}.{attr}.transform.mean_", m, allow_none=False)
        _check_vector(t.scale_, f"{where}.{attr}.transform.scale_", m, positive=True, allow_none=False)
        if p:
            _check_vector(model.x_mean, f"{where}.{attr}.x_mean", p, allow_none=False)
            _check_vector(model.x_scale, f"{where}.{attr}.x_scale", p, positive=True, allow_none=False)
        est = model.estimator
        if not isinstance(est, BaseRecurrent):
            _fail(where, "the fitted estimator is not a tsrnn recurrent estimator")
        _check_model(est, f"{where}.{attr}.estimator")
        if est.n_timesteps_ != f.window or est.input_size_ != f.n_step_features_:
            _fail(where, "the fitted estimator does not read windows of this Forecaster")
    if f.estimator_ is not f._model.estimator or f.transform_ is not f._model.transform:
        _fail(where, "estimator_/transform_ are not those of the fitted pipeline")


def _check_naive(f, where: str) -> None:
    _check_params(f, where)
    if not hasattr(f, "sigma_"):
        return
    m = f.n_series_
    for attr in ("sigma_", "drift_", "drift_se_"):
        _check_vector(getattr(f, attr), f"{where}.{attr}", m, allow_none=False)
    last = f._last_season
    if not (isinstance(last, np.ndarray) and last.shape == (f.period_, m) and np.all(np.isfinite(last))):
        _fail(where, "the last season does not match the period and the series")
    _check_target_info(f, where, len(f.target_info_.index), m)
