"""Setting a plugin's estimator parameters from a spec, as `set_params` would.

A parameter is named as scikit-learn names it (`pca__n_components` inside a pipeline), or by
its plain name (`n_components`) when exactly one step of the estimator has it. The canonical
name keeps what the user wrote; the same resolution runs again wherever it is rebuilt.
Values are checked where the estimator declares its constraints (scikit-learn's do), so a
bad value is one line before the run instead of a failed row after it.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

from ferbench.errors import PluginError
from ferbench.plugins.registration import BuildContext, Factory, Registration
from ferbench.plugins.specs import Spec


def _estimators(estimator: Any) -> list[Any]:
    """The estimator and every estimator nested in it (pipeline steps, wrapped models)."""
    nested = [v for v in estimator.get_params(deep=True).values() if hasattr(v, "get_params")]
    return [estimator, *nested]


def _settable(params: dict[str, Any]) -> list[str]:
    """Parameter names a user can set: values, not nested estimators or step lists."""

    def is_steps(value: Any) -> bool:
        return isinstance(value, (list, tuple)) and any(
            isinstance(item, tuple) and len(item) >= 2 and hasattr(item[1], "get_params") for item in value
        )

    return [name for name, value in params.items() if not hasattr(value, "get_params") and not is_steps(value)]


def parameter_names(estimator: Any) -> list[str]:
    """The settable names, each as short as it can be without becoming ambiguous."""
    full = _settable(estimator.get_params(deep=True))
    leaves = [name.rsplit("__", 1)[-1] for name in full]
    return sorted(leaf if leaves.count(leaf) == 1 else name for name, leaf in zip(full, leaves))


def _resolve(estimator: Any, name: str, label: str) -> str:
    """The full scikit-learn name of parameter `name` of this estimator."""
    params = estimator.get_params(deep=True)
    if name in params:
        return name
    matches = [full for full in _settable(params) if full.endswith(f"__{name}")]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise PluginError(f"{label}: '{name}' is ambiguous, write one of {', '.join(sorted(matches))}")
    raise PluginError(f"{label} has no parameter '{name}' (its parameters: {', '.join(parameter_names(estimator))})")


def configure(estimator: Any, spec: Spec, label: str) -> Any:
    """The estimator with the spec's parameters set; unknown names and bad values raise."""
    if not spec.params:
        return estimator
    if not hasattr(estimator, "set_params") or not hasattr(estimator, "get_params"):
        raise PluginError(f"{label} takes no parameters: its estimator has no get_params/set_params")
    values = {_resolve(estimator, name, label): value for name, value in spec.params}
    try:
        estimator.set_params(**values)
        for part in _estimators(estimator):
            if hasattr(type(part), "_parameter_constraints"):
                part._validate_params()  # scikit-learn's own check of every value
    except (ValueError, TypeError) as error:
        message = " ".join(str(error).split())
        raise PluginError(
            f"{label}: bad value in '{spec.text}': {message} (its parameters: {', '.join(parameter_names(estimator))})"
        ) from None
    return estimator


def _configured_build(factory: Factory, spec: Spec, label: str, context: BuildContext) -> Any:
    return configure(factory(context), spec, label)


def with_parameters(registration: Registration, spec: Spec) -> Registration:
    """The registration named by the spec's canonical text, building a configured estimator.

    The parameters are tried once here, on an estimator built for a default context, so
    that a mistake stops the run before it starts.
    """
    if not spec.params:
        return registration
    label = f"the {registration.kind} '{spec.base}'"
    try:
        estimator = registration.build(BuildContext())
    except Exception as error:  # plugin code
        raise PluginError(f"{label} cannot be built to set its parameters: {type(error).__name__}: {error}") from None
    configure(estimator, spec, label)
    return dataclasses.replace(
        registration, name=spec.text, factory=partial(_configured_build, registration.factory, spec, label)
    )
