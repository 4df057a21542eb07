"""Datasets: real series shipped inside installed packages, and synthetic tasks.

``load(name)`` returns a real series with a proper time index; ``list()`` lists them.
"""

from ._real import list_datasets, load

list = list_datasets  # the documented name: tsrnn.datasets.list()

__all__ = ["list", "list_datasets", "load"]
