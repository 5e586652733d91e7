"""ferbench's built-in plugins, installed as the package `ferbench_plugins`.

Each module is registered under the `ferbench` entry-point group in pyproject.toml, the
same way a third-party distribution registers its own: the core names no algorithm.
"""

from ferbench import __version__  # the built-ins ship, and are versioned, with ferbench

__all__ = ["__version__"]
