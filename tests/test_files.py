"""Files written whole or not at all, with the permissions any other tool's output has."""

import os
import stat

import pytest

from ferbench.files import atomic_writer, write_atomically


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_written_file_follows_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        write_atomically(tmp_path / "results.csv", "a,b\n1,2\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "results.csv").stat().st_mode) == 0o666 & ~umask
    assert (tmp_path / "results.csv").read_text() == "a,b\n1,2\n"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as stream:
        stream.write(b"half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]
