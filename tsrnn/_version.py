"""The package version: one fact, read by ``tsrnn.__version__``, saved model files and the build
(``pyproject.toml`` takes it from here)."""

__version__ = "0.1.0"
