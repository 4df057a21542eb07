"""``tsrnn.save`` / ``tsrnn.load``: a model file that loads without executing code.

pickle and joblib remain the scikit-learn convention (every tsrnn model pickles), but
unpickling runs whatever code the file names, so a pickle from an untrusted source is unsafe.
A tsrnn model file holds only data:

- a ZIP archive (stored, not compressed) with one member ``tsrnn.json``, the description of the
  model as JSON (classes by name, their declared state: parameters, scalars, lists), and one
  NumPy ``.npy`` member per array under ``arrays/`` (``numpy.load`` opens the file as an
  ``.npz``; any zip tool lists it);
- this module is a generic container: it knows no class's attributes. The classes a file may
  name are those registered in :mod:`tsrnn._state`; each declares its state
  (``_get_state``) and checks its own invariants when rebuilt (``_set_state``), so that
  even a file with a recomputed digest cannot make the compiled kernels read out of bounds.

What :func:`load` checks, in order, before it builds anything:

1. the ZIP structure: only the expected member names, each once, stored (not compressed), with
   byte ranges that neither overlap nor nest and together fit in the file (so the uncompressed
   total is at most the file size);
2. every array header (dtype without objects, C order, a size equal to its member) and the
   SHA-256 digest of the JSON and the array bytes, streamed from the file without building
   any array;
3. the objects, innermost first, each through its class's ``_set_state``. Rebuilding what a file
   only describes (a network layout, a statsmodels state space) is charged to a memory budget
   of ``_BUDGET_FLOOR + _BUDGET_RATIO`` times the file size (:func:`tsrnn._state.reserve`).

Supported: the recurrent estimators (fitted or not, with their optimizer state so
``partial_fit`` continues), :class:`~tsrnn.Forecaster` wrapping one of them,
:class:`~tsrnn.NaiveForecaster`, the ARIMA, ETS, Theta and HMM forecasters (their fitted
parameters and data; the statsmodels results are rebuilt from them) and
:class:`~tsrnn.PerSeriesForecaster` of those; a Forecaster fitted on a panel (its series,
covariates, encoders and global or local networks).

Files record ``format_version``; a file from another version is refused with a message naming
both versions. Writing goes to a temporary file in the same directory that replaces the
destination only once complete (``os.replace``), so a crash or a full disk never leaves a
half-written model or destroys the previous one; an existing file is only replaced with
``overwrite=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import uuid
import warnings
import zipfile
from typing import Any

import numpy as np
import pandas as pd

from ._state import StateError, load_budget, registered
from ._version import __version__

__all__ = ["FORMAT_VERSION", "load", "save"]

FORMAT = "tsrnn-model"
#: Version of the file layout written by :func:`save`; :func:`load` reads this version only.
FORMAT_VERSION = 2
META = "tsrnn.json"
ARRAYS = "arrays/"
_ARRAY_KINDS = "biufcUM"  # bool, ints, floats, complex, unicode, datetime64: no objects
_ARRAY_MEMBER = re.compile(r"arrays/a(0|[1-9][0-9]{0,8})\.npy")
_SIMPLE_DTYPE = re.compile(r"[<>|=]?[biufcU][0-9]{1,2}")
#: Members are stored, so their uncompressed total may not exceed the file size (ratio 1).
_MAX_EXPANSION = 1
#: Memory a load may spend rebuilding what the file describes: a floor plus a multiple of its size.
_BUDGET_FLOOR = 32 * 2**20
_BUDGET_RATIO = 64
_CHUNK = 2**20


class _Unsupported(TypeError):
    pass


def _classes() -> dict[str, tuple]:
    """The registered classes: importing the packages registers every class a file may name."""
    from . import baselines, estimators, forecasting, nn  # noqa: F401

    return registered()


# ---------------------------------------------------------------------------------------- write


class _Writer:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.memo: dict[int, int] = {}
        self.keep: list = []  # objects referenced by id() stay alive while writing
        self.objects = 0
        self.classes = _classes()

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
        entry = self.classes.get(name)
        if entry is None or entry[0] is not cls:
            hint = ""
            if hasattr(value, "fit") and hasattr(value, "predict"):
                hint = (
                    f"; a Forecaster can be saved with tsrnn's recurrent estimators, not with {name}. "
                    "Use joblib.dump(model, path) for it (and load such a file only from a source you "
                    "trust), or skops.io for scikit-learn models"
                )
            raise _Unsupported(f"{where} is a {cls.__module__}.{name}, which it does not store{hint}")
        key = id(value)
        if key in self.memo:  # the same object reached twice (e.g. Forecaster.estimator_ and its _model)
            return {"ref": self.memo[key]}
        self.memo[key] = ref = self.objects
        self.keep.append(value)
        self.objects += 1
        try:
            source = entry[1](value)
        except _Unsupported:
            raise
        except (TypeError, ValueError) as exc:
            raise _Unsupported(f"{where}: {exc}") from None
        # In sorted order, as the JSON is written and read back: an object met twice is stored
        # once and referenced after, and the reader meets the two in the same order.
        state = {attr: self.encode(item, f"{where}.{attr}") for attr, item in sorted(source.items())}
        return {"object": name, "id": ref, "state": state}


def _digest_update(h, name: str, dtype: np.dtype, shape: tuple) -> None:
    h.update(f"|{name}|{dtype.str}|{shape}|".encode())


def _digest(content_json: str, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the JSON content and of every array's name, dtype, shape and C-order bytes."""
    h = hashlib.sha256(content_json.encode("utf-8"))
    for name in sorted(arrays):
        arr = arrays[name]
        _digest_update(h, name, arr.dtype, arr.shape)
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def save(model, path, *, overwrite: bool = False) -> None:
    """Save a tsrnn model to ``path`` in a format that loads without executing code.

    Parameters
    ----------
    model : estimator or forecaster
        A recurrent estimator (fitted or not), a :class:`~tsrnn.Forecaster` wrapping one, a
        :class:`~tsrnn.NaiveForecaster`, :class:`~tsrnn.ARIMAForecaster`,
        :class:`~tsrnn.ETSForecaster`, :class:`~tsrnn.ThetaForecaster`,
        :class:`~tsrnn.HMMForecaster`, or a :class:`~tsrnn.PerSeriesForecaster` of those.
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


def _check_members(zf: zipfile.ZipFile, fh, file_size: int) -> dict[str, zipfile.ZipInfo]:
    """Refuse anything but expected, stored, non-overlapping members that fit in the file."""
    if META not in zf.namelist():
        raise _Damaged(f"it has no {META} member (is it a tsrnn model file?)")
    members: dict[str, zipfile.ZipInfo] = {}
    spans = []
    for info in zf.infolist():
        name = info.filename
        if name in members:
            raise _Damaged(f"member {name!r} appears twice")
        if name != META and not _ARRAY_MEMBER.fullmatch(name):
            raise _Damaged(f"member {name!r} is not part of a tsrnn model file")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise _Damaged(f"member {name!r} is compressed; tsrnn writes stored members only")
        if info.flag_bits & 0x9:  # encrypted, or sizes in a trailing data descriptor
            raise _Damaged(f"member {name!r} is encrypted or has a data descriptor")
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise _Damaged(f"member {name!r} has no local header where the directory says")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset
        end = start + 30 + name_len + extra_len + info.compress_size
        spans.append((start, end, name))
        members[name] = info
    total = sum(info.file_size for info in members.values())
    if total > _MAX_EXPANSION * file_size:
        raise _Damaged(f"its members claim {total} bytes in all, more than the file's {file_size}")
    directory = getattr(zf, "start_dir", file_size)
    previous_end, previous = 0, None
    for start, end, name in sorted(spans):
        if start < previous_end:
            raise _Damaged(f"members {previous!r} and {name!r} overlap")
        previous_end, previous = end, name
    if previous_end > min(directory, file_size):
        raise _Damaged(f"member {previous!r} runs past the end of the archive's data")
    return members


def _array_header(fh, name: str, member_size: int) -> tuple[tuple, np.dtype]:
    """Read and check an ``.npy`` header; the stream is left at the first data byte."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise _Damaged(f"array {name!r} has an unknown .npy version {version}")
    if dtype.hasobject or dtype.kind not in _ARRAY_KINDS or dtype.subdtype is not None or dtype.names:
        raise _Damaged(f"array {name!r} has dtype {dtype}, which a tsrnn model file never holds")
    if fortran:
        raise _Damaged(f"array {name!r} is in Fortran order; tsrnn writes C order")
    # The header must claim exactly the data the member holds (no allocation of what is not there).
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    held = member_size - fh.tell()
    if nbytes != held:
        raise _Damaged(f"array {name!r} claims {nbytes} bytes but its member holds {held}")
    return shape, dtype


def _check_digest(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], content: Any, recorded) -> None:
    """Stream every array's bytes through SHA-256 and compare with the recorded digest."""
    h = hashlib.sha256(json.dumps(content, sort_keys=True, allow_nan=False).encode("utf-8"))
    names = sorted(n[len(ARRAYS) : -len(".npy")] for n in members if n != META)
    for name in names:
        info = members[f"{ARRAYS}{name}.npy"]
        with zf.open(info) as fh:
            shape, dtype = _array_header(fh, name, info.file_size)
            _digest_update(h, name, dtype, shape)
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    if h.hexdigest() != recorded:
        raise _Damaged(
            "its content does not match the SHA-256 digest recorded when it was saved: the file "
            "was modified or damaged after it was written"
        )


def _read_array(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str) -> np.ndarray:
    info = members.get(f"{ARRAYS}{name}.npy")
    if info is None:
        raise _Damaged(f"the array {name!r} is missing")
    with zf.open(info) as fh:
        shape, dtype = _array_header(fh, name, info.file_size)
        arr = np.empty(shape, dtype=dtype)  # writable, C-contiguous: what the kernels expect
        view = memoryview(arr.reshape(-1).view(np.uint8)) if arr.size else memoryview(b"")
        filled = 0
        while filled < len(view):
            n = fh.readinto(view[filled:])
            if not n:
                raise _Damaged(f"the array {name!r} is truncated")
            filled += n
    return arr


class _Reader:
    def __init__(self, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]):
        self.zf = zf
        self.members = members
        self.classes = _classes()
        self.objects: dict[int, Any] = {}
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, spec: Any) -> np.ndarray:
        name = spec.get("array") if isinstance(spec, dict) else None
        if not isinstance(name, str):
            raise _Damaged("an array reference is not a name")
        if name not in self.arrays:
            self.arrays[name] = _read_array(self.zf, self.members, name)
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
            return tuple(self.decode(v) for v in _list(value["tuple"]))
        if "dict" in value:
            out = {}
            for pair in _list(value["dict"]):
                k, v = _list(pair)
                k = self.decode(k)
                if isinstance(k, (list, dict, np.ndarray)) or not _hashable(k):
                    raise _Damaged("a dict key is not a scalar")
                out[k] = self.decode(v)
            return out
        if "dtype" in value:
            text = value["dtype"]
            if not (isinstance(text, str) and _SIMPLE_DTYPE.fullmatch(text)):
                raise _Damaged(f"dtype {text!r} is not allowed")
            return np.dtype(text)
        if "type" in value:
            return {"float32": np.float32, "float64": np.float64}[value["type"]]
        if "random_state" in value:
            kind, keys, pos, has_gauss, gauss = _list(value["random_state"])
            keys = self.array(keys)
            if keys.shape != (624,) or keys.dtype.kind not in "iu":
                raise _Damaged("a random state does not hold 624 keys")
            rng = np.random.RandomState()
            rng.set_state((str(kind), keys.astype(np.uint32), int(pos), int(has_gauss), float(gauss)))
            return rng
        if "index" in value:
            return self.index(value["index"])
        if "offset" in value:
            return pd.tseries.frequencies.to_offset(str(value["offset"]))
        if "ref" in value:
            ref = value["ref"]
            if isinstance(ref, bool) or not isinstance(ref, int) or ref not in self.objects:
                raise _Damaged(f"a reference to object {ref!r}, which is not stored before it")
            return self.objects[ref]
        if "object" in value:
            return self.obj(value)
        raise _Damaged(f"unknown entry {sorted(value)}")

    def index(self, spec: Any) -> pd.Index:
        if not isinstance(spec, dict):
            raise _Damaged("an index is not a mapping")
        kind, name = spec["kind"], self.decode(spec["name"])
        if not _hashable(name) or isinstance(name, (list, dict)):
            raise _Damaged("an index name is not a scalar")
        if kind == "range":
            start, stop, step = (int(spec[k]) for k in ("start", "stop", "step"))
            return pd.RangeIndex(start, stop, step, name=name)
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
            values = [self.decode(v) for v in _list(spec["values"])]
            if any(isinstance(v, (list, dict, tuple, np.ndarray)) for v in values):
                raise _Damaged("an index label is not a scalar")
            return pd.Index(values, name=name)
        if kind == "values":
            return pd.Index(self.array(spec["values"]), name=name)
        raise _Damaged(f"unknown index kind {kind!r}")

    def obj(self, value: dict) -> Any:
        name = value["object"]
        entry = self.classes.get(name) if isinstance(name, str) else None
        if entry is None:
            raise _Damaged(f"it names a class {name!r} that a tsrnn model file may not hold")
        cls, _, set_state = entry
        ref = value["id"]
        if isinstance(ref, bool) or not isinstance(ref, int) or ref in self.objects:
            raise _Damaged(f"object id {ref!r} is not a new integer")
        state = value["state"]
        if not isinstance(state, dict):
            raise _Damaged(f"the state of a {name} is not a mapping")
        # Inner objects first: each is rebuilt and checked before the object that holds it.
        decoded = {attr: self.decode(item) for attr, item in state.items()}
        obj = cls.__new__(cls)
        set_state(obj, decoded)
        self.objects[ref] = obj
        return obj


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise _Damaged(f"expected a list, got {type(value).__name__}")
    return value


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


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
        was written (its SHA-256 digest no longer matches), comes from another
        ``format_version``, describes an inconsistent model, or describes a model whose
        rebuilding would need far more memory than the file's size justifies. The message
        says which.
    FileNotFoundError
        If ``path`` does not exist.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    what = f"{path!r} is not a valid tsrnn model file"
    try:
        with open(path, "rb") as fh:
            file_size = os.fstat(fh.fileno()).st_size
            try:
                zf = zipfile.ZipFile(fh, "r")
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
                raise ValueError(
                    f"{what}: it is not a complete ZIP archive ({exc}); it may be truncated."
                ) from None
            with zf, load_budget(_BUDGET_FLOOR + _BUDGET_RATIO * file_size):
                return _load(zf, fh, file_size, path)
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
        OverflowError,
        RecursionError,
        MemoryError,
        NotImplementedError,
        StateError,
    ) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(what):
            raise
        # whatever a damaged file trips over while being read, the caller gets one clear error
        detail = str(exc).rstrip(".") or type(exc).__name__
        raise ValueError(f"{what}: {detail}.") from None


def _load(zf: zipfile.ZipFile, fh, file_size: int, path: str):
    members = _check_members(zf, fh, file_size)
    raw = zf.read(members[META])
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Damaged(f"{META} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Damaged(f"{META} does not describe a {FORMAT} file")
    version = meta.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise _Incompatible(
            f"{path!r} was written by tsrnn {meta.get('tsrnn_version', '?')} in model format version "
            f"{version!r}, but this tsrnn ({__version__}) reads format version {FORMAT_VERSION}; "
            "load it with the tsrnn version that wrote it, and refit or save it again from there."
        )
    content = meta.get("content")
    _check_digest(zf, members, content, meta.get("sha256"))
    if not (isinstance(content, dict) and "object" in content):
        raise _Damaged("its content is not a model")
    with warnings.catch_warnings():
        # a model saved with device="cuda" warns once when it falls back to the CPU
        warnings.simplefilter("default")
        return _Reader(zf, members).decode(content)
