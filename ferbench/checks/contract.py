"""The conformance checks: one function per promise a plugin makes to the harness.

Each check takes a `Subject` and returns a note (it passed) or raises `CheckFailure` with
what is wrong and how to fix it. The plugin's own exceptions arrive as `PluginRaised` and
fail the check that ran into them. `CHECKS` lists them in the order they are reported.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from sklearn.base import clone

from ferbench.checks.subject import LABEL_OFFSET, TINY, Run, Subject, call, method
from ferbench.errors import FerbenchError
from ferbench.plugins.registration import ALL_KINDS, Classifier, Clusterer, Kind, Learner
from ferbench.plugins.registry import PLUGIN_NAME
from ferbench.plugins.specs import parse

BASE_ESTIMATOR_FIX = (
    "subclass sklearn.base.BaseEstimator and store each __init__ argument unchanged, as an attribute "
    "of the same name (no checks or conversions in __init__)"
)
SEED_WORDS = ("random_state", "seed")


class CheckFailure(Exception):
    """A broken promise: what is wrong, and how to fix it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix


@dataclass(frozen=True)
class Check:
    """A named check and the kinds of plugin it applies to."""

    name: str
    function: Callable[[Subject], str]
    kinds: tuple[Kind, ...] = ALL_KINDS


def check_record(subject: Subject) -> str:
    """The registration: a usable name, a description, installed requirements, a factory that builds."""
    registration = subject.registration
    if not _usable_name(registration.name):
        raise CheckFailure(
            f"the name {registration.name!r} cannot be typed after -e/-c/-k",
            "use letters, digits, '.', '_' and '-' only, e.g. 'my-kmeans'",
        )
    if not registration.description.strip():
        raise CheckFailure("the description is empty", "give a one-line description: `ferbench list` shows it")
    missing = registration.missing_requirements()
    if missing:
        raise CheckFailure(
            f"needs {', '.join(missing)}, which is not installed here",
            registration.install_hint or f"install {', '.join(missing)}, or correct `requires`",
        )
    return f"builds {type(subject.build()).__name__}"


def _usable_name(name: str) -> bool:
    """A plain plugin name, or the canonical spec / module:Class name the registry made."""
    try:
        base = parse(name).base
    except FerbenchError:
        return False
    return bool(PLUGIN_NAME.fullmatch(base) or ":" in base)


def check_estimator_api(subject: Subject) -> str:
    """get_params, set_params, clone, and fit returning self: the scikit-learn estimator API."""
    estimator = subject.build()
    for name in ("get_params", "set_params"):
        if not callable(getattr(estimator, name, None)):
            raise CheckFailure(f"the estimator has no {name}()", BASE_ESTIMATOR_FIX)
    params = call("get_params", estimator.get_params, deep=False)
    if not isinstance(params, dict):
        raise CheckFailure(f"get_params() returned {type(params).__name__}, not a dict", BASE_ESTIMATOR_FIX)
    if call("set_params", estimator.set_params, **params) is not estimator:
        raise CheckFailure("set_params() does not return the estimator itself", "end set_params with `return self`")
    try:
        twin = clone(estimator)
    except Exception as error:
        raise CheckFailure(f"sklearn.base.clone fails: {' '.join(str(error).split())}", BASE_ESTIMATOR_FIX) from None
    if set(twin.get_params(deep=False)) != set(params):
        raise CheckFailure("a clone has other parameters than the original", BASE_ESTIMATOR_FIX)
    if isinstance(subject.registration, Clusterer):
        fitted = subject.build()
        if hasattr(fitted, "fit"):
            result = call("fit", method(fitted, "fit"), subject.inputs(subject.data.images))
            _fit_returns_self(result, fitted)
    else:
        run = subject.run()
        _fit_returns_self(run.fit_result, run.estimator)
    return f"{len(params)} parameters"


def _fit_returns_self(result: Any, estimator: Any) -> None:
    if result is not estimator:
        got = "None" if result is None else f"a {type(result).__name__}"
        raise CheckFailure(f"fit() returned {got}, not the estimator", "end fit with `return self`")


def _expect_rows(output: np.ndarray, n_rows: int, what: str) -> None:
    if output.ndim != 2 or len(output) != n_rows:
        raise CheckFailure(
            f"{what} returned shape {output.shape} for {n_rows} images", "return one row per image: an array [n, d]"
        )
    if not np.issubdtype(output.dtype, np.floating):
        raise CheckFailure(
            f"{what} returned {output.dtype} values", "return floats, e.g. `features.astype(np.float32)`"
        )
    if not np.isfinite(output).all():
        raise CheckFailure(
            f"{what} returned NaN or infinite values",
            "guard divisions and logarithms (e.g. divide by `max(std, 1e-8)`) so every value is finite",
        )


def _expect_ids(output: np.ndarray, n_rows: int, what: str, allowed: set | None = None) -> None:
    if output.shape != (n_rows,):
        raise CheckFailure(f"{what} returned shape {output.shape} for {n_rows} rows", "return one id per row: [n]")
    if not np.issubdtype(output.dtype, np.integer):
        raise CheckFailure(f"{what} returned {output.dtype} ids", "return integers, e.g. `ids.astype(np.int64)`")
    if allowed is not None and not set(np.unique(output).tolist()) <= allowed:
        raise CheckFailure(
            f"{what} returned labels it was not trained on ({sorted(set(np.unique(output).tolist()) - allowed)})",
            "predict only the labels given to fit (keep them in `classes_`; they need not start at 0)",
        )
    if allowed is None and output.min(initial=0) < -1:
        raise CheckFailure(f"{what} returned ids below -1", "use ids 0, 1, ... and -1 only for noise")


def _expect_output(subject: Subject, run: Run, n_train: int, n_test: int) -> None:
    """The shape and type the harness needs from this kind of plugin."""
    if isinstance(subject.registration, Clusterer):
        _expect_ids(run.train, n_train, "fit_predict")
        if run.test is not None:
            _expect_ids(run.test, n_test, "predict")
    elif isinstance(subject.registration, (Classifier, Learner)):
        trained = set((np.unique(subject.data.labels) + LABEL_OFFSET).tolist())
        _expect_ids(run.train, n_train, "predict", trained)
        if run.test is not None:
            _expect_ids(run.test, n_test, "predict", trained)
    else:
        _expect_rows(run.train, n_train, "transform(fitted images)")
        if run.test is not None:
            _expect_rows(run.test, n_test, "transform(new images)")
            if run.test.shape[1] != run.train.shape[1]:
                raise CheckFailure(
                    f"transform gives {run.train.shape[1]} columns for the fitted images and "
                    f"{run.test.shape[1]} for new ones",
                    "fix the width in fit (from the parameters or the fit images), never from the transform input",
                )


def check_outputs(subject: Subject) -> str:
    """Shapes and types: float features [n, d] of one width, or one integer id per row."""
    held_out = subject.data.held_out
    run = subject.run()
    _expect_output(subject, run, int((~held_out).sum()), int(held_out.sum()))
    return f"output {run.train.dtype} {run.train.shape}"


def _same(first: np.ndarray | None, second: np.ndarray | None) -> bool:
    """Equal ids, or features equal up to float rounding.

    Why the tolerance: BLAS kernels round differently for differently aligned memory, so
    the same fitted PCA gives float32 features that differ in the last bit after a pickle
    round trip; randomness or a lost state changes far more than that.
    """
    if first is None or second is None:
        return first is second
    if first.shape != second.shape:
        return False
    if not (np.issubdtype(first.dtype, np.floating) or np.issubdtype(second.dtype, np.floating)):
        return bool(np.array_equal(first, second))
    scale = float(np.abs(first).max(initial=0.0)) or 1.0
    return bool(np.allclose(first, second, rtol=1e-5, atol=1e-5 * scale))


def check_same_seed(subject: Subject) -> str:
    """Two runs with one seed give the same output, and that output says something."""
    first, second = subject.run(), subject.run(repeat=1)
    if not (_same(first.train, second.train) and _same(first.test, second.test)):
        raise CheckFailure(
            "two runs with seed 0 give different output",
            "derive every random choice from ctx.seed (random_state=ctx.seed; np.random.default_rng(seed)); "
            "on torch, seed it and turn off nondeterministic kernels",
        )
    rows = first.train.reshape(len(first.train), -1)
    if len(rows) > 1 and (rows == rows[0]).all():
        raise CheckFailure(
            f"the output is the same for every image of {subject.data.description}, so there is nothing to compare",
            "make the output depend on the image; if the plugin only works on real faces, check it on them: "
            "ferbench check-plugin NAME --data fer2013.csv.gz",
        )
    constant = int((rows == rows[0]).all(axis=0).sum()) if rows.ndim == 2 else 0
    if constant and not isinstance(subject.registration, (Clusterer, Classifier)):
        return f"{constant} of {rows.shape[1]} columns are constant on these images: only the rest was compared"
    return "the same output twice"


def _seed_parameters(estimator: Any) -> dict[str, Any]:
    if not hasattr(estimator, "get_params"):
        return {}
    params = estimator.get_params(deep=True)
    return {name: value for name, value in params.items() if any(w in name.rsplit("__", 1)[-1] for w in SEED_WORDS)}


def check_seed_used(subject: Subject) -> str:
    """The run's seed reaches every random_state/seed parameter, so seeds really differ."""
    zero, one = _seed_parameters(subject.build(0)), _seed_parameters(subject.build(1))
    if not zero:
        return "no random_state or seed parameter: taken to be deterministic"
    for name, value in zero.items():
        if value is None:
            raise CheckFailure(
                f"{name} is None: every run draws fresh randomness", f"pass the run's seed: {name}=ctx.seed"
            )
        if isinstance(value, (int, np.integer)) and one.get(name) == value:
            raise CheckFailure(
                f"{name} is {value} for seed 0 and for seed 1: the plugin ignores the run's seed",
                f"pass the run's seed: {name}=ctx.seed",
            )
    return f"seed reaches {', '.join(sorted(zero))}"


def _output_of(subject: Subject, estimator: Any, inputs: np.ndarray) -> np.ndarray | None:
    if isinstance(subject.registration, Clusterer) and not hasattr(estimator, "predict"):
        return None
    name = "transform" if subject.reads_images() and not isinstance(subject.registration, Classifier) else "predict"
    return np.asarray(call(name, method(estimator, name), inputs))


def check_pickles(subject: Subject) -> str:
    """Built and fitted estimators survive pickle, giving the same output after the trip."""
    run = subject.run()
    for state, estimator in (("built", subject.build()), ("fitted", run.estimator)):
        try:
            copy = pickle.loads(pickle.dumps(estimator))
        except Exception as error:
            raise CheckFailure(
                f"the {state} estimator does not pickle: {type(error).__name__}: {error}",
                "keep only picklable state: module-level functions instead of lambdas or local functions, "
                "no open files, locks or generators (parallel workers and the stage cache pickle estimators)",
            ) from None
    test_in = subject.inputs(subject.data.images[subject.data.held_out])
    if not _same(_output_of(subject, copy, test_in), run.test):
        raise CheckFailure(
            "the fitted estimator gives other output after a pickle round trip",
            "keep every fitted value in plain attributes (no caches keyed by object id)",
        )
    return "round trip gives the same output"


def check_tiny_input(subject: Subject) -> str:
    """Fits and answers on 14 images (two per emotion, as `--per-class 2` gives)."""
    run = subject.run(tiny=True)
    _expect_output(subject, run, TINY, 0)
    return f"{TINY} images"


def check_fits_without_labels(subject: Subject) -> str:
    """fit works without labels and does not change when given some: labels only score."""
    what = "fit_predict" if isinstance(subject.registration, Clusterer) else "fit"
    try:
        plain = subject.run()
    except Exception as error:
        try:
            subject.run(with_labels=True)
        except Exception:
            raise error from None
        raise CheckFailure(
            f"{what}(X) fails without labels ({error}) but works with them",
            f"ferbench never gives an {subject.kind} labels: make it unsupervised, with y=None in the signature",
        ) from None
    try:
        labelled = subject.run(with_labels=True)
    except Exception:
        return f"{what} takes no labels"
    if not (_same(plain.train, labelled.train) and _same(plain.test, labelled.test)):
        raise CheckFailure(
            f"the output changes when {what} is given labels: the {subject.kind} learns from y",
            "ignore y: accept it (y=None) for scikit-learn compatibility but never use it; labels only score",
        )
    return "ignores labels"


CHECKS: tuple[Check, ...] = (
    Check("registration", check_record),
    Check("estimator API", check_estimator_api),
    Check("output shapes and types", check_outputs),
    Check("same seed, same output", check_same_seed),
    Check("seed is used", check_seed_used),
    Check("pickles", check_pickles),
    Check(f"tiny input ({TINY} images)", check_tiny_input),
    Check("learns without labels", check_fits_without_labels, kinds=("extractor", "clusterer")),
)
