"""Conformance checks a plugin author runs on their plugin, like scikit-learn's check_estimator.

    from ferbench.checks import run_checks
    for result in run_checks(my_registration):
        print(result.check, result.status, result.problem, result.fix)

`ferbench check-plugin` prints the same results as a table; `ferbench.testing.check_registration`
raises one AssertionError listing every failure, for an author's own tests.
"""

from __future__ import annotations

import traceback
import warnings

from ferbench.checks.contract import CHECKS, Check, CheckFailure
from ferbench.checks.result import CheckResult
from ferbench.checks.sklearn_suite import SUITE, run_sklearn_suite
from ferbench.checks.subject import (
    FACTORY_CALL,
    FACTORY_FIX,
    CheckData,
    PluginRaised,
    Subject,
    blob_data,
    blob_images,
    faces_data,
)
from ferbench.plugins.registration import Registration

_NOT_BUILT = "the registration check failed"
_FIX_OF_KIND = {
    "extractor": "fit(images) and transform(images) must accept normalised float32 images [n, 48, 48]",
    "clusterer": "fit_predict(features) must accept a float feature matrix [n, d] and return [n] integer ids",
    "classifier": "fit(inputs, labels) and predict(inputs) must accept what it consumes, with any integer labels",
    "learner": "fit(features, labels) must accept -1 for unlabelled rows and predict(features) the labels given",
}


def run_check(check: Check, subject: Subject) -> CheckResult:
    """One check; the plugin's exceptions and warnings are findings, never crashes."""
    plugin = subject.title
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            note = check.function(subject)
        except CheckFailure as failure:
            return CheckResult(plugin, check.name, "fail", failure.problem, failure.fix)
        except PluginRaised as raised:
            fix = FACTORY_FIX if raised.call == FACTORY_CALL else _FIX_OF_KIND[subject.kind]
            return CheckResult(plugin, check.name, "fail", str(raised), fix, "", raised.traceback)
        except Exception as error:  # output the check cannot even inspect (e.g. a list of strings)
            problem = f"the output broke the check: {type(error).__name__}: {' '.join(str(error).split())}"
            trace = "".join(traceback.format_exception(error))
            return CheckResult(plugin, check.name, "fail", problem, _FIX_OF_KIND[subject.kind], "", trace)
    messages = list(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))
    if messages:
        note = f"{note}; warned: {messages[0]}" + (f" (+{len(messages) - 1} more)" if len(messages) > 1 else "")
    return CheckResult(plugin, check.name, "pass", note=note)


def run_checks(
    registration: Registration, data: CheckData | None = None, *, sklearn: bool = False
) -> list[CheckResult]:
    """Every check that applies to the plugin's kind, in order, then with `sklearn` scikit-learn's
    own suite (`check_estimator`, see ferbench.checks.sklearn_suite); after a failed registration
    check the rest are skipped (nothing can be built to check)."""
    subject = Subject(registration, data or blob_data())
    results: list[CheckResult] = []
    for check in CHECKS:
        if registration.kind not in check.kinds:
            continue
        if results and not results[0].passed:
            results.append(CheckResult(subject.title, check.name, "skip", note=_NOT_BUILT))
            continue
        results.append(run_check(check, subject))
    if sklearn:
        results += (
            run_sklearn_suite(subject)
            if results[0].passed
            else [CheckResult(subject.title, SUITE, "skip", note=_NOT_BUILT)]
        )
    return results


__all__ = [
    "CHECKS",
    "Check",
    "CheckData",
    "CheckFailure",
    "CheckResult",
    "Subject",
    "blob_data",
    "blob_images",
    "faces_data",
    "run_check",
    "run_checks",
    "run_sklearn_suite",
]
