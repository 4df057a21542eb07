"""Map the user-facing ``device`` parameter to a kernel backend name."""

from __future__ import annotations

__all__ = ["DEVICES", "resolve_device"]

#: Every value the ``device`` parameter accepts. "reference" is the plain NumPy specification:
#: slow, but handy as an oracle in tests.
DEVICES = ("cpu", "reference", "cuda", "auto")


def resolve_device(device: str) -> str:
    """Return the backend that runs ``device`` ("cpu" or "reference").

    Raises
    ------
    ValueError
        For "cuda" and "auto" (CUDA support is not part of this build yet) and for unknown
        names.
    """
    if device in ("cpu", "reference"):
        return device
    if device in ("cuda", "auto"):
        raise ValueError(
            f"device={device!r}: CUDA support is not available in this build of tsrnn; "
            "use device='cpu'. (GPU kernels will need the optional extra: pip install 'tsrnn[cuda]'.)"
        )
    raise ValueError(f"device must be one of {list(DEVICES)}, got {device!r}.")
