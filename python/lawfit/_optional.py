"""Optional dependencies: import on first use, and name the extra that installs them when missing."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, *, extra: str, package: str | None = None, what: str = "this feature") -> ModuleType:
    """Import ``module`` or raise an ``ImportError`` naming the lawfit extra that provides it.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"sklearn.cluster"``.
    extra : str
        The lawfit extra that installs it, e.g. ``"pruning"``.
    package : str, optional
        The distribution name on PyPI when it differs from the module's top-level name.
    what : str
        What needs it, for the message.

    Raises
    ------
    ImportError
        ``"<what> needs <package>: pip install 'lawfit[<extra>]'"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pkg = package or module.split(".")[0]
        msg = f"{what} needs {pkg}: pip install 'lawfit[{extra}]' (or pip install {pkg})"
        raise ImportError(msg) from exc
