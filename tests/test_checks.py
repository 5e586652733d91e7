"""The conformance checks: each catches the broken plugin made for it, and passes a good one."""

from __future__ import annotations

import pytest

from ferbench.checks import CHECKS, run_checks
from ferbench.plugins.registration import Extractor
from ferbench.plugins.registry import load_plugins
from ferbench.testing import check_registration
from tests.plugin_files import BIRCH_PLUGIN, BROKEN_FOR

CASES = [(check, *case) for check, cases in BROKEN_FOR.items() for case in cases]


def registration_from(tmp_path, source: str, kind: str, name: str):
    path = tmp_path / f"{name.replace('-', '_')}_plugin.py"
    path.write_text(source)
    registry = load_plugins([path], use_entry_points=False)
    assert not registry.failures, registry.failures
    return registry.plugins[kind][name].registration


def test_every_check_has_a_broken_plugin():
    assert set(BROKEN_FOR) == {check.name for check in CHECKS}


@pytest.mark.parametrize(("check", "source", "kind", "name", "problem"), CASES, ids=[c[3] for c in CASES])
def test_check_catches_its_broken_plugin(tmp_path, check, source, kind, name, problem):
    results = {r.check: r for r in run_checks(registration_from(tmp_path, source, kind, name))}
    caught = results[check]
    assert caught.status == "fail"
    assert problem in caught.problem
    assert caught.fix, "every failure says how to fix it"


def test_a_good_plugin_passes_every_check(tmp_path):
    results = run_checks(registration_from(tmp_path, BIRCH_PLUGIN, "clusterer", "birch"))
    assert [r.check for r in results] == [c.name for c in CHECKS]
    assert all(r.passed for r in results), [r for r in results if not r.passed]


def test_after_a_failed_registration_the_other_checks_are_skipped(tmp_path):
    check, source, kind, name, _ = CASES[0]
    results = run_checks(registration_from(tmp_path, source, kind, name))
    assert results[0].status == "fail" and {r.status for r in results[1:]} == {"skip"}
    assert "pip install fancy-faces" == results[0].fix


def test_check_registration_lists_every_failure_with_its_fix():
    class Noisy:
        def fit(self, images, y=None):
            return None

        def transform(self, images):
            return images.reshape(len(images), -1)[:, :4]

    with pytest.raises(AssertionError) as caught:
        check_registration(Extractor("noisy", "", lambda ctx: Noisy()))
    assert "extractor 'noisy': registration: the description is empty (fix: give a one-line description" in str(
        caught.value
    )


def test_a_factory_that_raises_fails_the_registration_check_with_its_error():
    def factory(ctx):
        raise KeyError("n_emotions")

    (record, *rest) = run_checks(Extractor("broken-factory", "cannot build", factory))
    assert record.status == "fail"
    assert record.problem == "the factory raised KeyError: 'n_emotions'"
    assert record.fix.startswith("build the estimator from the BuildContext alone")
    assert "KeyError" in record.traceback and {r.status for r in rest} == {"skip"}


def test_a_missing_method_or_unreadable_output_is_a_failure_not_a_crash():
    class NoTransform:
        def fit(self, images, y=None):
            return self

        def get_params(self, deep=True):
            return {}

    class Nothing(NoTransform):
        def transform(self, images):
            return None

    missing = {r.check: r for r in run_checks(Extractor("no-transform", "no transform", lambda ctx: NoTransform()))}
    assert missing["output shapes and types"].problem == (
        "transform raised AttributeError: the NoTransform estimator has no transform()"
    )
    nothing = {r.check: r for r in run_checks(Extractor("nothing", "returns None", lambda ctx: Nothing()))}
    assert nothing["output shapes and types"].problem == "transform(fitted images) returned shape () for 45 images"
    assert nothing["same seed, same output"].problem.startswith("the output broke the check: TypeError")
