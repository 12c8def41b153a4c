"""The installed distribution's version (one place: the package and saved fits read it)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lawfit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"
