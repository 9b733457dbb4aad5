"""Results round-trip through JSON exactly, and an unknown schema version is refused with the file named."""

import json
from dataclasses import replace

import pytest

from assignkit.results import SCHEMA_VERSION, ResultError, Status, SubmissionResult
from test_report import graded_result, not_gradable_result, timeout_result


@pytest.mark.parametrize("result", [graded_result(name="김민수", late=True, notes=("newer resubmission replaced",)),
                                    timeout_result(), not_gradable_result()])
def test_round_trip_is_exact(result, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(result.to_json(), encoding="utf-8")
    again = SubmissionResult.read(path)
    assert again == result
    assert again.to_json() == result.to_json()
    assert type(again.status) is Status and isinstance(again.questions, tuple) and isinstance(again.notes, tuple)


def test_json_has_the_schema_version_and_plain_values():
    data = json.loads(graded_result().to_json())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["status"] == "graded" and data["checks"][0]["max_points"] == 1.0
    assert list(data)[:3] == ["student", "homework", "origin"]


def test_unknown_schema_version_is_refused_naming_the_file(tmp_path):
    data = json.loads(graded_result().to_json()) | {"schema_version": SCHEMA_VERSION + 1}
    path = tmp_path / "results" / "kim01.json"
    path.parent.mkdir()
    path.write_text(json.dumps(data))
    with pytest.raises(ResultError, match=rf"{path}: results schema version {SCHEMA_VERSION + 1}"):
        SubmissionResult.read(path)


@pytest.mark.parametrize("text, message", [
    ('{"student": "kim", "score": 4', "not valid JSON"),
    ("[1, 2]", "not a result"),
    (json.dumps({"schema_version": SCHEMA_VERSION, "student": "kim"}), "not a complete result"),
    (json.dumps(json.loads(graded_result().to_json()) | {"status": "excellent"}), "not a complete result"),
])
def test_broken_files_are_refused_naming_the_file(text, message):
    with pytest.raises(ResultError, match=f"kim.json: {message}"):
        SubmissionResult.from_json(text, "results/kim.json")


def test_status_values_are_the_strings_in_the_files():
    assert [s.value for s in Status] == ["graded", "timeout", "kernel_died", "memory_exceeded", "not_gradable",
                                         "grader_error"]
    assert Status.GRADED == "graded" and str(Status.GRADER_ERROR) == "grader_error"
    assert replace(graded_result(), status=Status("timeout")).status is Status.TIMEOUT
