"""Model files under property-based attack: truncated at every member boundary, members swapped,
manifests with wrong types, missing keys and huge numbers, zip members with absolute or `..`
paths, skops trees that call eval, os.system or subprocess.Popen. Each file loads cleanly (and
then predicts) or fails in one line, through its fitted estimators and through its numpy-only
form alike; none runs code, writes a file, or takes over a few seconds."""

from __future__ import annotations

import copy
import itertools
import json
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferbench.errors import FerbenchError
from ferbench.recogniser.bundle import load_model, save_model
from tests.model_files import calling, manifest_of, rewritten, small_model, with_manifest

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SECONDS = 5.0  # a load, checks and one face included; about 0.05 s on one core
CROPS = np.random.default_rng(0).integers(0, 256, (4, 48, 48), dtype=np.uint8)
ODD_NAMES = ["/etc/ferbench-evil", "../evil.txt", "a/../../evil.txt", "..\\evil.txt", "C:/evil.txt", "./manifest.json"]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([0, -1, 48, 64, 2**63, 10**30])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["features", "images", "unit", "standardize", "happy", "unknown", "../x", "/etc/passwd"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["0", "1", "9", "-1", "x"]), inner),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return save_model(small_model(), tmp_path_factory.mktemp("model") / "model.fbm")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A fresh folder per example, under one root whose contents are checked after each load."""
    root = tmp_path_factory.mktemp("attacked")
    return root, (root / f"case{n}" for n in itertools.count())


def files_under(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def loads_cleanly_or_one_line(path: Path, watched: Path, marker: Path) -> bool:
    """Load `path` both ways (its fitted estimators, and its numpy-only form where it can): each a
    model that predicts, or one FerbenchError line naming the file. Nothing may be written under
    `watched` (nor the marker anywhere), each takes under SECONDS, and a file the full load refuses
    for trust, the numpy-only load refuses too. Whether both loaded."""
    refusals = {}
    for numpy_only in (False, True):
        before = files_under(watched)
        start = time.perf_counter()
        try:
            model = load_model(path, numpy_only=numpy_only)
        except FerbenchError as error:
            message = str(error)
            assert "\n" not in message and message.startswith(str(path)) and len(message) < 600, message
            model, refusals[numpy_only] = None, message
        assert time.perf_counter() - start < SECONDS
        assert files_under(watched) == before and not marker.exists()
        if model is not None:
            assert len(model.predict(CROPS)) == len(CROPS)
    if "does not trust" in refusals.get(False, ""):
        assert refusals.get(True) == refusals[False]
    return not refusals


def in_folder(saved: Path, folders) -> tuple[Path, Path]:
    """The watched root, and a copy of the model file in a folder of its own under it."""
    root, fresh = folders
    folder = next(fresh)
    folder.mkdir()
    return root, Path(shutil.copy(saved, folder))


def test_a_file_truncated_at_any_member_boundary_is_one_line(saved, folders):
    data = saved.read_bytes()
    with zipfile.ZipFile(saved) as archive:
        infos = archive.infolist()
        boundaries = {archive.start_dir, len(data) - 1, 0}
    for info in infos:
        data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        boundaries |= {info.header_offset, data_start, data_start + info.compress_size}
    root, fresh = folders
    for at in sorted(boundaries):
        path = next(fresh).with_suffix(".fbm")
        path.write_bytes(data[:at])
        assert not loads_cleanly_or_one_line(path, root, root / "ran"), at


@FUZZ
@given(st.data())
def test_a_manifest_with_wrong_types_missing_keys_or_huge_numbers_loads_or_is_one_line(saved, folders, data):
    root, path = in_folder(saved, folders)
    manifest = copy.deepcopy(manifest_of(saved))
    places = list(_places(manifest))
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        keys = data.draw(st.sampled_from(places), label="where")
        parent = manifest
        for key in keys[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        if data.draw(st.booleans(), label="remove"):
            parent.pop(keys[-1], None)
        else:
            parent[keys[-1]] = data.draw(JSON, label="value")
    changed = with_manifest(path, json.dumps(manifest), f"edited-{path.name}")
    loads_cleanly_or_one_line(changed, root, root / "ran")


@FUZZ
@given(st.data())
def test_members_swapped_renamed_or_added_load_or_are_one_line(saved, folders, data):
    root, path = in_folder(saved, folders)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    names = sorted(members)
    first, second = data.draw(st.permutations(names), label="swap")[:2]
    action = data.draw(st.sampled_from(["swap", "rename", "add"]), label="action")
    if action == "swap":
        members[first], members[second] = members[second], members[first]
    elif action == "rename":
        members[data.draw(st.sampled_from(ODD_NAMES), label="name")] = members.pop(first)
    else:
        members[data.draw(st.sampled_from(ODD_NAMES + ["x.pkl"]), label="name")] = data.draw(
            st.sampled_from([b"", b"\x80\x04K\x01.", members[first]]), label="content"
        )
    changed = path.with_name(f"changed-{path.name}")
    with zipfile.ZipFile(changed, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    loads_cleanly_or_one_line(changed, root, root / "ran")


@pytest.mark.parametrize(
    "module, name, argument",
    [
        ("builtins", "eval", "open('{marker}', 'w').close()"),
        ("os", "system", "touch {marker}"),
        ("subprocess", "Popen", ["/usr/bin/touch", "{marker}"]),
    ],
)
@pytest.mark.parametrize("role", ["extractor", "classifier"])
def test_a_skops_member_that_would_run_code_runs_none(saved, folders, module, name, argument, role):
    root, path = in_folder(saved, folders)
    marker = root / "ran"
    parts = [part.format(marker=str(marker)) for part in ([argument] if isinstance(argument, str) else argument)]
    crafted = rewritten(path, f"{role}.skops", calling(module, name, parts[0] if isinstance(argument, str) else parts))
    assert not loads_cleanly_or_one_line(crafted, root, marker)
    with pytest.raises(FerbenchError, match=f"does not trust: {module}.{name}"):
        load_model(crafted)


def _places(manifest: dict[str, Any], prefix: tuple[str, ...] = ()) -> Any:
    """Every key path in the manifest, and one new key in each object."""
    yield (*prefix, "unexpected")
    for key, value in manifest.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _places(value, (*prefix, key))
