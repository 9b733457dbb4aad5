import os

import pytest

from assignkit import fileio
from assignkit.fileio import atomic_write_bytes, atomic_write_text


def test_text_write_creates_parents_and_replaces_content(tmp_path):
    path = tmp_path / "a" / "b" / "grades.csv"
    atomic_write_text(path, "old\n")
    atomic_write_text(path, "새 내용\n")
    assert path.read_text(encoding="utf-8") == "새 내용\n"
    assert os.listdir(path.parent) == ["grades.csv"]
    assert path.stat().st_mode & 0o777 == fileio._FILE_MODE  # like open(), not NamedTemporaryFile's 0600


def test_bytes_write_replaces_content(tmp_path):
    path = tmp_path / "x.png"
    atomic_write_bytes(path, b"\x89PNG old")
    atomic_write_bytes(path, b"\x89PNG new")
    assert path.read_bytes() == b"\x89PNG new"
    assert os.listdir(tmp_path) == ["x.png"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failure_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, failing):
    path = tmp_path / "summary.html"
    atomic_write_text(path, "old")

    def boom(*args, **kwargs):
        raise OSError("disk went away")

    monkeypatch.setattr(fileio.os, failing, boom)
    with pytest.raises(OSError, match="disk went away"):
        atomic_write_text(path, "new")
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["summary.html"]


def test_wrong_type_keeps_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "r.json"
    atomic_write_text(path, "old")
    with pytest.raises(TypeError):
        atomic_write_text(path, b"bytes, not str")
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "str, not bytes")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["r.json"]


def test_interrupt_during_write_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    atomic_write_text(path, "old")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(path, b"new")
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["r.json"]
