"""The check plugin on hand-made artifacts: accessors, rebuilt networks, messages, points."""

import json
import textwrap

import pytest
import torch

from assignkit.checks import ChecksError, HarvestedQuestion, MissingArtifact, question_points, run_checks
from assignkit.kernel_harvest import harvest


def _question(tmp_path, namespace, plan, qid="q1"):
    harvest(namespace, plan, str(tmp_path / "artifacts" / qid))
    return HarvestedQuestion(tmp_path / "artifacts" / qid, qid, "")


def test_module_is_rebuilt_from_weights_not_taken_from_the_student(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1), torch.nn.Sigmoid())
    sub = _question(tmp_path, {"net": net}, [{"name": "net", "kind": "module"}])
    rebuilt = sub.module("net")
    assert rebuilt is not net and isinstance(rebuilt[3], torch.nn.Sigmoid)
    x = torch.linspace(-1, 1, 5).reshape(-1, 1)
    assert torch.equal(rebuilt(x), net(x))
    assert sub.describe("net") == "a network Linear(1, 2) → ReLU → Linear(2, 1) → Sigmoid"


def test_custom_layer_classes_are_refused(tmp_path):
    class Linear(torch.nn.Module):  # same name as torch's, not torch's
        def forward(self, x):
            return x

    sub = _question(tmp_path, {"net": torch.nn.Sequential(Linear())}, [{"name": "net", "kind": "module"}])
    with pytest.raises(MissingArtifact, match="only torch.nn"):
        sub.module("net")


def test_accessors_say_what_is_wrong(tmp_path):
    sub = _question(tmp_path, {"t": torch.zeros(3), "s": "B", "x": float("nan")},
                    [{"name": n, "kind": "value"} for n in ("t", "s", "x", "gone")])
    with pytest.raises(MissingArtifact, match=r"t has shape \(3,\); expected \(3, 1\)"):
        sub.tensor("t", shape=(3, 1))
    with pytest.raises(MissingArtifact, match="should be a torch tensor"):
        sub.tensor("s")
    with pytest.raises(MissingArtifact, match="finite number"):
        sub.number("x")
    with pytest.raises(MissingArtifact, match="gone is not defined"):
        sub.text("gone")
    assert sub.text("s") == "B"


def test_a_question_that_never_ran_says_why(tmp_path):
    sub = HarvestedQuestion(tmp_path / "nothing", "q4", "this question did not run to the end: cell 9 timed out")
    with pytest.raises(MissingArtifact, match="cell 9 timed out"):
        sub.value("anything")


def test_a_tampered_artifact_file_is_unreadable_not_unpickled(tmp_path):
    sub = _question(tmp_path, {"t": torch.ones(1)}, [{"name": "t", "kind": "value"}])
    import pickle

    (tmp_path / "artifacts" / "q1" / "t.pt").write_bytes(pickle.dumps(object()))
    with pytest.raises(MissingArtifact, match="could not be read back"):
        sub.value("t")


def _write_checks(folder, source):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_hidden.py").write_text(textwrap.dedent(source))


def test_run_checks_scores_and_reports_only_messages(tmp_path):
    checks = tmp_path / "autograder"
    _write_checks(checks, '''
        import pytest

        SECRET_THRESHOLD = 0.123

        @pytest.mark.check("q1", points=2)
        def test_passes(sub):
            assert sub.number("n") == 3

        @pytest.mark.check("q1", points=1)
        def test_fails_with_message(sub, feedback):
            feedback.curve("fit", [0, 1], {"yours": [0, 1]})
            assert sub.number("n") < SECRET_THRESHOLD, "n is too large"

        @pytest.mark.check("q2", points=1)
        def test_bare_assert(sub):
            assert sub.number("n") > 10
    ''')
    harvest({"n": 3}, [{"name": "n", "kind": "value"}], str(tmp_path / "artifacts" / "q1"))
    results, figures = run_checks(checks, tmp_path, tmp_path / "artifacts", {"q2": "q2 did not run"})
    by_name = {r.name: r for r in results}
    assert by_name["test_passes"].passed and by_name["test_passes"].points == 2
    assert by_name["test_fails_with_message"].message == "n is too large"
    assert by_name["test_bare_assert"].message == "q2 did not run"
    assert "SECRET" not in json.dumps([r.as_dict() for r in results])
    assert figures[0]["title"] == "fit" and figures[0]["question"] == "q1"
    assert question_points(checks) == {"q1": 3.0, "q2": 1.0}


def test_unmarked_or_broken_checks_are_an_instructor_error(tmp_path):
    _write_checks(tmp_path / "a", "def test_no_marker(sub):\n    pass\n")
    with pytest.raises(ChecksError, match="test_no_marker"):
        run_checks(tmp_path / "a", tmp_path, tmp_path, {})
    _write_checks(tmp_path / "b", "import pytest\n@pytest.mark.check('q1', points=1)\ndef test_x(sub):\n    syntax error\n")
    with pytest.raises(ChecksError):
        question_points(tmp_path / "b")
