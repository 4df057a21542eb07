"""Datasets: real series shipped inside installed packages, and synthetic tasks.

``load(name)`` returns a real series with a proper time index; ``list()`` lists them.
``make_adding_problem`` and ``make_copy_memory`` generate the standard long-dependency tasks.
"""

from ._real import check_dataset_name, dataset_names, list_datasets, load

list = list_datasets  # the documented name: tsrnn.datasets.list()


def __getattr__(name: str):
    # The synthetic tasks need scikit-learn: imported on first use (PEP 562).
    if name in ("make_adding_problem", "make_copy_memory"):
        from . import _synthetic

        value = getattr(_synthetic, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tsrnn.datasets' has no attribute {name!r}")


__all__ = [
    "check_dataset_name",
    "dataset_names",
    "list",
    "list_datasets",
    "load",
    "make_adding_problem",
    "make_copy_memory",
]
