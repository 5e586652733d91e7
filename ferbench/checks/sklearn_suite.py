"""scikit-learn's own conformance suite, `check_estimator`, on a plugin's estimator: a row per check.

Why: plugins speak scikit-learn's estimator API, and scikit-learn's suite states that API in full
(input validation, `n_features_in_`, errors before fit, parameters left alone by fit, ...), far
beyond what ferbench's own checks need of a plugin.

The estimator is built as a run builds it. scikit-learn's Pipeline and FeatureUnion are opened
and their steps checked one by one, because scikit-learn's own classes are scikit-learn's to test
(its own test suite expects Pipeline to fail two of these checks): only the plugin's classes go
through the suite. A plugin that takes images cannot: the suite feeds 2-D feature matrices.

An estimator declares the checks it cannot pass, with why, in a method
`_expected_failed_checks(self) -> dict[str, str]` ({check name: reason}). Those checks still
run, and a failure of one is reported as expected, not as a failure; a test reads the same
declaration with `parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)`.
"""

from __future__ import annotations

import traceback
import warnings
from typing import Any

from sklearn.pipeline import FeatureUnion, Pipeline

from ferbench.checks.contract import BASE_ESTIMATOR_FIX
from ferbench.checks.result import CheckResult
from ferbench.checks.subject import FACTORY_FIX, PluginRaised, Subject

SUITE = "scikit-learn check_estimator"
TAKES_IMAGES = "it takes images [n, 48, 48], and scikit-learn's checks feed 2-D feature matrices"
SCIKIT_LEARNS_OWN = "scikit-learn's own class: scikit-learn checks it"
_LONGEST_PROBLEM = 400  # characters: some checks print whole parameter values; --debug shows everything

_VALIDATE = (
    "check X with sklearn.utils.validation.validate_data(self, X) in fit (it sets n_features_in_ and refuses NaN, "
    "infinite, complex, sparse, 1-D and empty input) and validate_data(self, X, reset=False) in predict/transform"
)
_PARAMETERS = (
    "never assign to a constructor parameter in fit: keep what fit derives from it in an attribute ending in _ "
    "(e.g. self.n_neighbors_ = min(self.n_neighbors, len(X)))"
)
_SPARSE = (
    "refuse sparse input with validate_data's clear error (accept_sparse=False, the default), or accept it and "
    "say so in __sklearn_tags__: tags.input_tags.sparse = True"
)
_FIXES = {
    **dict.fromkeys(
        (
            "check_n_features_in",
            "check_n_features_in_after_fitting",
            "check_complex_data",
            "check_estimators_nan_inf",
            "check_estimators_empty_data_messages",
            "check_fit1d",
            "check_fit2d_predict1d",
            "check_fit2d_1sample",
            "check_fit2d_1feature",
            "check_dtype_object",
            "check_estimators_dtypes",
            "check_classifier_data_not_an_array",
            "check_transformer_data_not_an_array",
            "check_estimators_data_not_an_array",
            "check_f_contiguous_array_estimator",
        ),
        _VALIDATE,
    ),
    **dict.fromkeys(("check_dont_overwrite_parameters", "check_estimators_overwrite_params"), _PARAMETERS),
    **dict.fromkeys(
        ("check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimator_sparse_tag"), _SPARSE
    ),
    **dict.fromkeys(
        (
            "check_estimator_cloneable",
            "check_estimator_repr",
            "check_no_attributes_set_in_init",
            "check_parameters_default_constructible",
            "check_get_params_invariance",
            "check_set_params",
            "check_do_not_raise_errors_in_init_or_set_params",
        ),
        BASE_ESTIMATOR_FIX,
    ),
    "check_estimators_unfitted": "start predict/transform with sklearn.utils.validation.check_is_fitted(self)",
    "check_fit_check_is_fitted": "start predict/transform with sklearn.utils.validation.check_is_fitted(self)",
    "check_fit_score_takes_y": "name fit's second argument y (y=None for an estimator that learns without labels)",
    "check_readonly_memmap_input": "never write into X: copy it where the code must (np.require(X, requirements='W'))",
    "check_dict_unchanged": "predict/transform must not change the estimator: set attributes in fit only",
    "check_fit_idempotent": "fit must start afresh: derive everything from X, y and the parameters",
    "check_methods_subset_invariance": "answer each row on its own: no batch-level state in predict/transform",
    "check_methods_sample_order_invariance": "answer each row on its own: no batch-level state in predict/transform",
    "check_transformer_preserve_dtypes": (
        "return the input's float dtype, or declare what it returns in __sklearn_tags__: "
        "tags.transformer_tags.preserves_dtype"
    ),
    "check_clustering": (
        "fit sets labels_, fit_predict returns them: integer ids 0..k-1 (-1 for noise), the same for the same "
        "random_state, that find three well-separated blobs"
    ),
}


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """The checks the estimator declares it cannot pass, {check name: reason}; none when it declares none."""
    declared = getattr(estimator, "_expected_failed_checks", None)
    return dict(declared()) if callable(declared) else {}


def parts(estimator: Any) -> list[Any]:
    """The estimators inside scikit-learn's Pipeline and FeatureUnion, at any depth; any other estimator is its
    own only part."""
    if isinstance(estimator, Pipeline):
        steps = estimator.steps
    elif isinstance(estimator, FeatureUnion):
        steps = estimator.transformer_list
    else:
        return [estimator]
    return [part for _, step in steps if not (step is None or isinstance(step, str)) for part in parts(step)]


def is_scikit_learns(estimator: Any) -> bool:
    return type(estimator).__module__.partition(".")[0] == "sklearn"


def fix_for(check_name: str) -> str:
    """How to pass one of scikit-learn's checks."""
    return _FIXES.get(
        check_name,
        f"see {check_name} in sklearn.utils.estimator_checks for what it feeds and expects; one the estimator "
        "cannot pass goes in its _expected_failed_checks() with the reason",
    )


def run_sklearn_suite(subject: Subject) -> list[CheckResult]:
    """scikit-learn's checks on each of the plugin's own classes in the built estimator, or one line saying why
    they cannot run."""
    if subject.reads_images():
        return [CheckResult(subject.title, SUITE, "skip", note=TAKES_IMAGES)]
    try:
        estimator = subject.build()
    except PluginRaised as raised:
        return [CheckResult(subject.title, SUITE, "fail", str(raised), FACTORY_FIX, traceback=raised.traceback)]
    return [result for part in parts(estimator) for result in _check_part(subject.title, part)]


def _check_part(plugin: str, estimator: Any) -> list[CheckResult]:
    name = type(estimator).__name__
    if is_scikit_learns(estimator):
        return [CheckResult(plugin, f"{SUITE} ({name})", "skip", note=SCIKIT_LEARNS_OWN)]
    from sklearn.utils.estimator_checks import check_estimator  # 0.3 s to import: only when asked for

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what the estimator says of the suite's odd inputs is not a finding
        try:
            outcomes = check_estimator(
                estimator, expected_failed_checks=expected_failed_checks(estimator), on_skip=None, on_fail=None
            )
        except Exception as error:  # the suite cannot even start on it (no get_params, no tags)
            return [CheckResult(plugin, f"{SUITE} ({name})", "fail", _described(error), BASE_ESTIMATOR_FIX)]
    return [_result(plugin, name, outcome) for outcome in outcomes]


def _result(plugin: str, name: str, outcome: dict[str, Any]) -> CheckResult:
    """One outcome of check_estimator as a row."""
    check, error, reason = f"{outcome['check_name']} ({name})", outcome["exception"], outcome["expected_to_fail_reason"]
    if outcome["status"] == "passed":
        note = f"passes, though declared to fail ({reason})" if outcome["expected_to_fail"] else ""
        return CheckResult(plugin, check, "pass", note=note)
    if outcome["status"] == "skipped":
        return CheckResult(plugin, check, "skip", note=_described(error))
    if outcome["status"] == "xfail":
        return CheckResult(plugin, check, "xfail", note=f"declared to fail: {reason}")
    trace = "".join(traceback.format_exception(error))
    return CheckResult(plugin, check, "fail", _described(error), fix_for(outcome["check_name"]), traceback=trace)


def _described(error: BaseException) -> str:
    message = " ".join(str(error).split())
    text = f"{type(error).__name__}: {message}" if message else f"{type(error).__name__} (no message)"
    return text if len(text) <= _LONGEST_PROBLEM else text[: _LONGEST_PROBLEM - 1] + "…"
