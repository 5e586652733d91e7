"""ferbench's version, in a module of its own: what stores it (keys, results, model files)
reads it from here without importing the facade and what the facade imports."""

__version__ = "0.2.0"
