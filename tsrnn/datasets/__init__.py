"""Datasets: real series shipped inside installed packages, and synthetic tasks.

``load(name)`` returns a real series with a proper time index; ``list()`` lists them.
``make_adding_problem`` and ``make_copy_memory`` generate the standard long-dependency tasks.
"""

from ._real import list_datasets, load
from ._synthetic import make_adding_problem, make_copy_memory

list = list_datasets  # the documented name: tsrnn.datasets.list()

__all__ = ["list", "list_datasets", "load", "make_adding_problem", "make_copy_memory"]
