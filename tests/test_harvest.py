"""Grader side of the harvest: questions.toml, the harvest cell, and the copy out of the student's folder."""

import json
import os
from pathlib import Path

import pytest
import torch

from assignkit import harvest as harvest_module
from assignkit.harvest import (Artifact, Question, QuestionsError, harvest_source, load_questions, recorder_source,
                               take_out)


def _question(folder: Path, *artifacts: Artifact) -> Question:
    return Question("q1", "Q1", "q1_form", artifacts, folder)


def test_harvest_cell_adds_no_name_and_carries_the_hidden_inputs(tmp_path):
    (tmp_path / "inputs.json").write_text(json.dumps([[[[1.0], [2.0]]]]))
    question = _question(tmp_path, Artifact("double", "function", "inputs.json"), Artifact("t", "value"))
    namespace = {"double": lambda v: 2 * v, "t": torch.ones(2)}
    exec(harvest_source(question, str(tmp_path / "out")), namespace)
    assert set(namespace) == {"double", "t", "__builtins__"}
    calls = torch.load(tmp_path / "out" / "double.pt", weights_only=True)["calls"]  # a tensor: saved by torch
    assert torch.equal(calls[0]["output"], torch.tensor([[2.0], [4.0]]))


def test_questions_toml_errors_name_the_file(tmp_path):
    (tmp_path / "questions.toml").write_text('[[question]]\nid = "q1"\nartifacts = [{ name = "x", kind = "blob" }]\n')
    with pytest.raises(QuestionsError, match="questions.toml:2: q1.x: kind must be one of"):
        load_questions(tmp_path)


def test_questions_toml_names_the_line_of_a_repeated_id_or_a_question_without_artifacts(tmp_path):
    toml = tmp_path / "questions.toml"
    toml.write_text('[[question]]\nid = "q1"\nartifacts = [{ name = "x", kind = "value" }]\n\n'
                    '[[question]]\nid = "q1"\nartifacts = [{ name = "y", kind = "value" }]\n')
    with pytest.raises(QuestionsError, match="questions.toml:6: q1: a second question with this id"):
        load_questions(tmp_path)
    toml.write_text('[[question]]\nid = "q1"\nartifacts = []\n')
    with pytest.raises(QuestionsError, match="questions.toml:2: q1: harvests no artifacts"):
        load_questions(tmp_path)
    toml.write_text('[[question]]\ntitle = "no id"\nartifacts = []\n')
    with pytest.raises(QuestionsError, match="questions.toml:0: question 1: KeyError 'id'"):
        load_questions(tmp_path)


def test_after_defaults_to_the_form_cell_of_the_question(tmp_path):
    (tmp_path / "questions.toml").write_text('[[question]]\nid = "q1"\nartifacts = [{ name = "x", kind = "value" }]\n')
    assert load_questions(tmp_path)[0].after == "q1_form"


def _student_folder(tmp_path: Path) -> Path:
    workdir = tmp_path / "sandbox"
    (workdir / ".harvest" / "q1").mkdir(parents=True)
    return workdir


def test_take_out_copies_files_and_empties_the_folder(tmp_path):
    workdir = _student_folder(tmp_path)
    (workdir / ".harvest" / "q1" / "manifest.json").write_text("{}")
    (workdir / ".harvest" / "q1" / "t.pt").write_bytes(b"data")
    take_out(workdir, "q1", tmp_path / "out")
    assert (tmp_path / "out" / "t.pt").read_bytes() == b"data"
    assert os.listdir(workdir / ".harvest" / "q1") == []


@pytest.mark.parametrize("swapped", [".harvest", ".harvest/q1"])
def test_take_out_never_follows_a_symlinked_folder(tmp_path, swapped):
    workdir = _student_folder(tmp_path)
    host = tmp_path / "host"
    (host / "q1").mkdir(parents=True)
    (host / "q1" / "secret.pt").write_text("host file")
    (host / "secret.pt").write_text("host file")
    target = workdir / swapped
    os.rename(target, tmp_path / "moved")
    target.symlink_to(host / "q1" if swapped.endswith("q1") else host)
    take_out(workdir, "q1", tmp_path / "out")
    assert not (tmp_path / "out" / "secret.pt").exists()
    assert (host / "q1" / "secret.pt").is_file() and (host / "secret.pt").is_file()


def test_take_out_skips_symlinks_and_fifos_inside(tmp_path):
    workdir = _student_folder(tmp_path)
    (tmp_path / "host.txt").write_text("host file")
    (workdir / ".harvest" / "q1" / "link.pt").symlink_to(tmp_path / "host.txt")
    os.mkfifo(workdir / ".harvest" / "q1" / "fifo.pt")
    take_out(workdir, "q1", tmp_path / "out")
    assert os.listdir(tmp_path / "out") == [] and (tmp_path / "host.txt").read_text() == "host file"


@pytest.mark.parametrize("file", ["big.pt", "big.floats"])
def test_an_artifact_over_the_size_limit_says_so(tmp_path, monkeypatch, file):
    monkeypatch.setattr(harvest_module, "MAX_HARVEST_BYTES", 100)
    workdir = _student_folder(tmp_path)
    (workdir / ".harvest" / "q1" / "manifest.json").write_text(json.dumps({"big": {"ok": True, "kind": "value"}}))
    (workdir / ".harvest" / "q1" / file).write_bytes(b"x" * 200)
    take_out(workdir, "q1", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["big"]["ok"] is False and "too large to grade" in manifest["big"]["error"]


def test_record_is_declared_per_question_and_the_recorder_runs_only_when_one_asks(tmp_path):
    toml = tmp_path / "questions.toml"
    toml.write_text('[[question]]\nid = "q1"\nrecord = true\nartifacts = [{ name = "x", kind = "value" }]\n\n'
                    '[[question]]\nid = "q2"\nartifacts = [{ name = "y", kind = "value" }]\n')
    q1, q2 = load_questions(tmp_path)
    assert (q1.record, q2.record) == (True, False)
    assert recorder_source([q2]) is None
    assert "install_recorder" in recorder_source([q1, q2]) and "True)))" in harvest_source(q1, "out")
    toml.write_text('[[question]]\nid = "q1"\nrecord = "yes"\nartifacts = [{ name = "x", kind = "value" }]\n')
    with pytest.raises(QuestionsError, match="questions.toml:2: question 1: ValueError record must be true or false"):
        load_questions(tmp_path)
