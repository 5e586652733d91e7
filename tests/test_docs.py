"""The plugin guide's examples are whole plugin files: each loads and passes every check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ferbench.checks import run_checks
from ferbench.plugins.registry import load_plugins

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
EXAMPLES = re.findall(r"```python\n# file: (\w+\.py)\n(.*?)```", GUIDE.read_text(), flags=re.S)


def test_the_guide_has_one_example_per_kind():
    expected = ["dct_plugin.py", "birch_plugin.py", "ridge_plugin.py", "spreading_plugin.py"]
    assert [name for name, _ in EXAMPLES] == expected


@pytest.mark.parametrize(("name", "source"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_each_example_passes_every_check(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(source)
    registry = load_plugins([path], use_entry_points=False)
    assert not registry.failures
    (loaded,) = list(registry.all())
    failed = [r for r in run_checks(loaded.registration) if not r.passed]
    assert not failed, failed
