"""Conformance checks for a plugin author's own tests, like scikit-learn's check_estimator.

    from ferbench.testing import check_registration
    check_registration(my_registration)   # raises AssertionError naming what is wrong

Every check of `ferbench.checks` runs (the same ones `ferbench check-plugin` prints):
the estimator API, output shapes and types, determinism for a seed and use of the seed,
pickling, a tiny input, and fitting without labels. Pass `data=faces_data(dataset)` for a
plugin that only works on real faces.
"""

from __future__ import annotations

from ferbench.checks import CheckData, blob_images, faces_data, run_checks
from ferbench.plugins.registration import Registration

__all__ = ["blob_images", "check_registration", "faces_data"]


def check_registration(registration: Registration, data: CheckData | None = None) -> None:
    """Raise AssertionError listing every check the plugin fails, with how to fix each."""
    failures = [r for r in run_checks(registration, data) if r.status == "fail"]
    if failures:
        lines = [f"{r.plugin}: {r.check}: {r.problem} (fix: {r.fix})" for r in failures]
        raise AssertionError("\n".join(lines))
