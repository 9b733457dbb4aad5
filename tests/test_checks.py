"""The check plugin on hand-made artifacts: accessors, rebuilt networks, messages, points."""

import copy
import importlib.metadata
import json
import multiprocessing
import sys
import textwrap
import time

import pytest
import torch

import assignkit.checks as checks_module
from assignkit.checks import (ChecksError, HarvestedQuestion, MissingArtifact, ReferenceCache, architecture,
                              expect_architecture, expect_at_least, expect_at_most, expect_choice, expect_trained_as,
                              input_key, question_points, run_checks, training_cause)
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
    assert str(sub.describe("net")) == "a network Linear(1, 2) → ReLU → Linear(2, 1) → Sigmoid"
    assert sub.describe("net").text("ko") == "신경망(network) Linear(1, 2) → ReLU → Linear(2, 1) → Sigmoid"


def test_custom_layer_classes_are_refused(tmp_path):
    class Linear(torch.nn.Module):  # same name as torch's, not torch's
        def forward(self, x):
            return x

    sub = _question(tmp_path, {"net": torch.nn.Sequential(Linear())}, [{"name": "net", "kind": "module"}])
    with pytest.raises(MissingArtifact, match="only torch.nn") as caught:
        sub.module("net")
    assert caught.value.args[0].text("ko").startswith("net에 Linear 층(layer)이 있습니다. torch.nn의")


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


def test_pytest_plugins_installed_on_the_grading_machine_never_run_among_the_checks(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "spy_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "spy_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: spy-plugin\nVersion: 1.0\n")
    (site / "spy_plugin-1.0.dist-info" / "entry_points.txt").write_text("[pytest11]\nspy = spy_plugin\n")
    (site / "spy_plugin.py").write_text("def pytest_collection_modifyitems(items):\n    items.clear()\n")
    monkeypatch.syspath_prepend(str(site))
    assert "spy_plugin" in {entry.value for entry in importlib.metadata.entry_points(group="pytest11")}
    checks = tmp_path / "autograder"
    _write_checks(checks, '''
        import pytest

        @pytest.mark.check("q1", points=1)
        def test_n(sub):
            assert sub.number("n") == 3
    ''')
    harvest({"n": 3}, [{"name": "n", "kind": "value"}], str(tmp_path / "artifacts" / "q1"))
    results, _ = run_checks(checks, tmp_path, tmp_path / "artifacts", {})
    assert [(r.name, r.passed) for r in results] == [("test_n", True)]
    assert "spy_plugin" not in sys.modules
    assert question_points(checks) == {"q1": 1.0}


# ---------------------------------------------------------------- the shared checks every homework uses

def test_expect_choice_accepts_the_answer_however_it_is_quoted(tmp_path):
    sub = _question(tmp_path, {"a": ' "c" ', "b": 3, "c": "E", "d": [1]},
                    [{"name": n, "kind": "value"} for n in "abcd"])
    expect_choice(sub, "a", ("A", "B", "C"), "C", "hint")
    expect_choice(sub, "b", ("1", "2", "3"), "3", "hint")
    with pytest.raises(AssertionError, match=r'^c should be one of "A", "B", "C"; it is \'E\'$'):
        expect_choice(sub, "c", ("A", "B", "C"), "C", "hint")
    with pytest.raises(AssertionError, match=r'^d should be a string such as "A"; it is list of length 1$'):
        expect_choice(sub, "d", ("A", "B"), "B", "hint")
    with pytest.raises(AssertionError, match=r'^a = "C" is not right\. Look at the plot\.$'):
        expect_choice(sub, "a", ("A", "B", "C"), "B", "Look at the plot.")


def test_expect_architecture_states_what_is_asked_and_what_was_built(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1, bias=False))
    sub = _question(tmp_path, {"net": net, "l1": torch.nn.Linear(1, 1)},
                    [{"name": "net", "kind": "module"}, {"name": "l1", "kind": "module"}])
    assert architecture(sub.module("net")) == "Sequential(Linear(1, 2), ReLU(), Linear(2, 1, bias=False))"
    assert isinstance(expect_architecture(sub, "l1", "Linear(1, 1)"), torch.nn.Linear)
    with pytest.raises(AssertionError) as failed:
        expect_architecture(sub, "net", "Sequential(Linear(1, 2), ReLU(), Linear(2, 1), Sigmoid())", " Hint.")
    assert str(failed.value) == (
        "net should be torch.nn.Sequential(Linear(1, 2), ReLU(), Linear(2, 1), Sigmoid()); it is "
        "torch.nn.Sequential(Linear(1, 2), ReLU(), Linear(2, 1, bias=False)). Build it exactly as the question says "
        "(layers, sizes, output activation). Hint.")


def test_threshold_checks_state_value_limit_and_how_far_off():
    expect_at_most("The BCE", 0.25, 0.30)
    expect_at_least("The accuracy", 0.70, 0.67)
    with pytest.raises(AssertionError) as failed:
        expect_at_most("The BCE of net on dnnex0", 0.3245, 0.30, " Train longer.")
    assert str(failed.value) == ("The BCE of net on dnnex0 is 0.3245; a good answer reaches at most 0.3 (yours is "
                                 "0.025 above the limit). Train longer.")
    with pytest.raises(AssertionError, match=r"^The accuracy is 0\.6; a good answer reaches at least 0\.67 "
                                             r"\(yours is 0\.07 below the limit\)\.$"):
        expect_at_least("The accuracy", 0.6, 0.67)


# ---------------------------------------------------------------- helpers beside the check files

def _homework_with_helper(folder, value):
    folder.mkdir(parents=True)
    (folder / "reference.py").write_text(f"VALUE = {value}\nCALLS = []\n")
    _write_checks(folder, '''
        import pytest

        import reference

        @pytest.mark.check("q1", points=1)
        def test_value(sub):
            reference.CALLS.append(1)
            assert sub.number("n") == reference.VALUE, f"n should be {reference.VALUE}; {len(reference.CALLS)} runs"
    ''')


def test_check_files_import_the_helpers_beside_them_and_each_homework_keeps_its_own(tmp_path):
    _homework_with_helper(tmp_path / "a", 3)
    _homework_with_helper(tmp_path / "b", 4)
    harvest({"n": 3}, [{"name": "n", "kind": "value"}], str(tmp_path / "artifacts" / "q1"))
    runs = [run_checks(tmp_path / hw, tmp_path, tmp_path / "artifacts", {})[0][0] for hw in "abab"]
    assert [r.passed for r in runs] == [True, False, True, False]
    # the helper module stays loaded between runs of the same homework: its state is shared (docs/checks.md)
    assert [r.message for r in runs[1::2]] == ["n should be 4; 1 runs", "n should be 4; 2 runs"]
    assert "reference" not in sys.modules and str(tmp_path / "a") not in sys.path


def test_a_message_in_two_languages_is_read_in_the_runs_language(tmp_path):
    checks = tmp_path / "autograder"
    _write_checks(checks, '''
        import pytest
        from assignkit.checks import expect_at_most, msg

        @pytest.mark.check("q1", points=1)
        def test_two_languages(sub, feedback):
            feedback.curve(msg(ko="적합", en="fit"), [0, 1], {msg(ko="나의 net", en="your net"): [0, 1]})
            expect_at_most(msg(ko="BCE", en="The BCE"), sub.number("n"), 1.0,
                           msg(ko=" Adam으로 학습하세요.", en=" Train with Adam."))

        @pytest.mark.check("q1", points=1)
        def test_plain(sub):
            assert False, "plain text"
    ''')
    harvest({"n": 3}, [{"name": "n", "kind": "value"}], str(tmp_path / "artifacts" / "q1"))
    korean, figures = run_checks(checks, tmp_path, tmp_path / "artifacts", {}, lang="ko")
    assert korean[0].message == "BCE은(는) 3입니다. 좋은 답은 1 이하입니다 (기준보다 2 높습니다). Adam으로 학습하세요."
    assert figures[0]["title"] == "적합" and list(figures[0]["series"]) == ["나의 net"]
    assert korean[1].message == "plain text"
    english, figures = run_checks(checks, tmp_path, tmp_path / "artifacts", {}, lang="en")
    assert english[0].message == ("The BCE is 3; a good answer reaches at most 1 (yours is 2 above the limit). "
                                  "Train with Adam.")
    assert figures[0]["title"] == "fit"


def test_a_check_that_crashes_says_so_in_the_runs_language(tmp_path):
    checks = tmp_path / "autograder"
    _write_checks(checks, '''
        import pytest

        @pytest.mark.check("q1", points=1)
        def test_crashes(sub):
            raise KeyError("k")
    ''')
    (result,), _ = run_checks(checks, tmp_path, tmp_path / "artifacts", {}, lang="ko")
    assert result.message.startswith("이 검사(check)") and "KeyError" in result.message


def test_a_failure_repeated_by_later_checks_of_the_question_is_reported_once(tmp_path):
    checks = tmp_path / "autograder"
    _write_checks(checks, '''
        import pytest
        from assignkit.checks import expect_architecture

        NET = "Sequential(Linear(1, 2), ReLU(), Linear(2, 1), Sigmoid())"

        @pytest.mark.check("q1", points=1)
        def test_architecture(sub):
            expect_architecture(sub, "net", NET)

        @pytest.mark.check("q1", points=1)
        def test_fit(sub):
            expect_architecture(sub, "net", NET)

        @pytest.mark.check("q2", points=1)
        def test_other_question(sub):
            expect_architecture(sub, "net", NET)
    ''')
    net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.Sigmoid())
    harvest({"net": net}, [{"name": "net", "kind": "module"}], str(tmp_path / "artifacts" / "q1"))
    harvest({"net": net}, [{"name": "net", "kind": "module"}], str(tmp_path / "artifacts" / "q2"))
    results, _ = run_checks(checks, tmp_path, tmp_path / "artifacts", {}, lang="ko")
    first, dependent, other = results
    assert not any(r.passed for r in results)
    assert "torch.nn.Sequential(Linear(1, 2), Sigmoid())" in first.message
    assert dependent.message == "검사하지 않음: 위의 test_architecture이(가) 같은 이유로 실패했습니다"
    assert other.message == first.message  # another question says it in full


def test_what_the_harvest_refused_reads_in_both_languages(tmp_path):
    sub = _question(tmp_path, {"net": [1.0], "record": {"a": object()}},
                    [{"name": "gone", "kind": "value"}, {"name": "net", "kind": "module"},
                     {"name": "record", "kind": "value"}])
    with pytest.raises(MissingArtifact) as gone:
        sub.value("gone")
    assert gone.value.args[0].text("ko").startswith("gone이(가) 정의되어 있지 않습니다: 답 셀(cell)을 채우지")
    assert str(gone.value.args[0]).startswith("gone is not defined: its answer cell")
    with pytest.raises(MissingArtifact) as net:
        sub.module("net")
    assert net.value.args[0].text("ko") == "net은(는) torch.nn.Module이 아니라 list입니다"
    with pytest.raises(MissingArtifact) as record:
        sub.value("record")
    assert record.value.args[0].text("ko") == ("record을(를) 채점할 수 없습니다: object 객체는 채점할 수 없습니다. "
                                                "tensor, 숫자, 문자열(string) 또는 그것들의 list여야 합니다")
    assert str(record.value.args[0]) == ("record could not be graded: a object cannot be graded; expected a tensor, "
                                         "number, string, or a list of them")


def test_a_failed_call_reads_in_both_languages_around_the_students_own_exception_text(tmp_path):
    def bce(yhat, y):
        raise ZeroDivisionError("my own text")

    def shaped(yhat, y):
        return object()

    plan = [{"name": name, "kind": "function", "calls": [[[0.5], [1.0]]]} for name in ("bce", "shaped", "fine")]
    sub = _question(tmp_path, {"bce": bce, "shaped": shaped, "fine": lambda yhat, y: yhat.sum()}, plan)
    raised, = sub.calls("bce")
    assert raised.output is None
    assert raised.error.text("ko") == "bce에서 예외(exception)가 났습니다: ZeroDivisionError: my own text"
    assert str(raised.error) == "bce raised ZeroDivisionError: my own text"
    refused, = sub.calls("shaped")
    assert refused.error.text("ko") == ("shaped의 출력(output)을 채점할 수 없습니다: object 객체는 채점할 수 없습니다. "
                                        "tensor, 숫자, 문자열(string) 또는 그것들의 list여야 합니다")
    assert str(refused.error) == ("the output of shaped cannot be graded: a object cannot be graded; expected a "
                                  "tensor, number, string, or a list of them")
    fine, = sub.calls("fine")
    assert fine.error is None and fine.output.item() == 0.5


def test_a_call_error_without_a_message_id_is_shown_as_its_english_text(tmp_path):
    folder = tmp_path / "artifacts" / "q1"
    folder.mkdir(parents=True)
    torch.save({"calls": [{"output": None, "error": "f raised KeyError: 'x'"}]}, folder / "f.pt")
    (folder / "manifest.json").write_text(json.dumps({"f": {"ok": True, "kind": "function"}}))
    error = HarvestedQuestion(folder, "q1", "").calls("f")[0].error
    assert error.text("ko") == error.text("en") == "f raised KeyError: 'x'"


def test_what_a_value_is_reads_in_both_languages(tmp_path):
    sub = _question(tmp_path, {"t": torch.zeros(3), "xs": [1, "a"], "n": None},
                    [{"name": name, "kind": "value"} for name in ("t", "xs", "n")])
    with pytest.raises(MissingArtifact) as tensor:
        sub.text("t")
    assert tensor.value.args[0].text("ko") == "t은(는) 문자열(string)이어야 합니다. 지금은 shape이 (3,)인 Tensor입니다"
    assert str(tensor.value.args[0]) == "t should be a string; it is Tensor of shape (3,)"
    assert sub.describe("xs").text("ko") == "길이(length)가 2인 list"
    assert sub.describe("n").text("ko") == sub.describe("n").text("en") == "NoneType"


def test_a_forged_refusal_is_shown_as_its_english_text_not_formatted(tmp_path):
    folder = tmp_path / "artifacts" / "q1"
    folder.mkdir(parents=True)
    forged = {"ok": False, "kind": "value", "error": "x is odd", "message": "{name.__class__}", "params": {"name": "x"}}
    (folder / "manifest.json").write_text(json.dumps({"x": forged}))
    with pytest.raises(MissingArtifact) as caught:
        HarvestedQuestion(folder, "q1", "").value("x")
    assert caught.value.args[0].text("ko") == "x is odd"


def _trained(tmp_path, record, qid="q1"):
    folder = tmp_path / "artifacts" / qid
    harvest({"net": torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())}, [{"name": "net", "kind": "module"}],
            str(folder))
    if record is not None:
        (folder / "record.json").write_text(record if isinstance(record, str) else json.dumps(record))
    return HarvestedQuestion(folder, qid, "")


def _record(*, cls="Adam", steps=6000, zero_grads=6000, lr=0.001, trains=("net",), loss="BinaryCrossEntropyBackward0",
            below=("SigmoidBackward0", "AddmmBackward0")):
    return {"optimizers": [{"cls": cls, "module": f"torch.optim.{cls.lower()}", "steps": steps, "zero_grads": zero_grads,
                            "lr": lr, "trains": list(trains)}],
            "module_zero_grads": 0, "losses": [{"chain": [loss, *below], "calls": steps}]}


def _failure(sub, **prescribed):
    with pytest.raises(AssertionError) as caught:
        expect_trained_as(sub, "net", **{"loss": "BCELoss", "optimizer": "Adam", "epochs": 6000, "lr": 0.001,
                                         **prescribed})
    return caught.value.args[0].en


def test_expect_trained_as_confirms_the_prescription_from_the_record(tmp_path):
    expect_trained_as(_trained(tmp_path, _record()), "net", loss="BCELoss", optimizer="Adam", epochs=6000, lr=0.001)
    by_hand = _record(loss="NegBackward0", below=("MeanBackward0",))  # a loss written by hand is not judged
    expect_trained_as(_trained(tmp_path, by_hand), "net", loss="BCELoss", optimizer="Adam", epochs=6000)


@pytest.mark.parametrize("record, says", [
    (_record(cls="SGD", lr=1.0), "net was trained with SGD; the question prescribes torch.optim.Adam"),
    (_record(lr=0.01), "the Adam learning rate of net is 0.01; the question prescribes lr=0.001"),
    (_record(steps=2000, zero_grads=2000), "net was trained for 2000 epochs"),
    (_record(loss="MseLossBackward0"), "backward() was called on in this question are MSELoss (6000 times)"),
    (_record(trains=()), "optimizer.step() ran 6000 times in this question, but that optimizer does not hold net's"),
    (_record(steps=0, zero_grads=0, trains=()), "optimizer.step() never ran in this question"),
    (_record(below=("SigmoidBackward0", "SigmoidBackward0")), "the output activation is applied twice"),
    (_record(loss="BinaryCrossEntropyWithLogitsBackward0"), "BCEWithLogitsLoss was used on the output of net's last"),
    (None, "the grader's record of how net was trained is missing"),
    ("{not json", "the grader's record of how net was trained is missing"),
    ('{"optimizers": [{"cls": "Adam"}], "losses": [], "module_zero_grads": 0}', "record of how net was trained is missing"),
    (_record(steps=-5), "the grader's record of how net was trained is missing"),
], ids=["optimizer", "lr", "epochs", "loss", "other-net", "no-step", "sigmoid-twice",
        "logits-on-sigmoid", "no-record", "not-json", "missing-field", "negative-count"])
def test_expect_trained_as_says_what_differs_from_the_prescription(tmp_path, record, says):
    assert says in _failure(_trained(tmp_path, record))


def test_a_clean_record_names_no_cause_and_a_missing_one_cannot(tmp_path):
    assert training_cause(_trained(tmp_path, _record()).training(), "net") is None
    assert training_cause(None, "net") is None


def test_no_zero_grad_seen_is_a_cause_but_not_a_broken_prescription(tmp_path):
    # Gradients zeroed by hand (p.grad = None) are not seen: it explains a poor fit, it costs nothing by itself.
    sub = _trained(tmp_path, _record(zero_grads=0))
    assert "zero_grad() was never called while net was trained" in training_cause(sub.training(), "net").en
    expect_trained_as(sub, "net", loss="BCELoss", optimizer="Adam", epochs=6000, lr=0.001)


def test_an_unanswered_question_is_reported_once_as_not_answered(tmp_path):
    checks = tmp_path / "autograder"
    _write_checks(checks, '''
        import pytest

        @pytest.mark.check("q1", points=1)
        def test_value(sub):
            assert sub.value("x") == 3

        @pytest.mark.check("q1", points=1)
        def test_again(sub):
            assert sub.value("x") == 3

        @pytest.mark.check("q2", points=1)
        def test_other(sub):
            assert sub.value("x") == 3
    ''')
    for qid in ("q1", "q2"):  # x, defined by an earlier answer, is there for both questions
        harvest({"x": 3}, [{"name": "x", "kind": "value"}], str(tmp_path / "artifacts" / qid))
    results, _ = run_checks(checks, tmp_path, tmp_path / "artifacts", {}, lang="ko", unanswered=frozenset({"q1"}))
    first, again, other = results
    assert first.message.startswith("미응답") and not first.passed
    assert again.message == "검사하지 않음: 위의 test_value이(가) 같은 이유로 실패했습니다"
    assert other.passed


def test_input_key_tells_apart_inputs_differing_in_one_bit_dtype_shape_or_type():
    x = torch.linspace(-1, 1, 7)
    nudged = x.clone()
    nudged[3] = torch.nextafter(nudged[3], torch.tensor(2.0))
    keys = {input_key(inputs) for inputs in [
        ("train", x, 0.05), ("train", nudged, 0.05), ("train", x.double(), 0.05), ("train", x.reshape(7, 1), 0.05),
        ("train", x, 0.05 + 1e-17 * 2), ("train", x, 1), ("train", x, "0.05"), ("train", [x], 0.05), ("fit", x, 0.05)]}
    assert len(keys) == 9
    assert input_key(("train", x, 0.05)) == input_key(("train", x.clone(), 0.05))
    assert input_key(("train", x[::2])) == input_key(("train", x[::2].contiguous()))  # a view is keyed by its values
    with pytest.raises(TypeError, match="dict"):
        input_key(("train", {"lr": 0.05}))



def test_shared_cache_computes_once_and_every_reader_gets_the_same_bits(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"what": torch.randn(50, 2, dtype=torch.float64), "final": (0.1, -0.2)}

    first = ReferenceCache(tmp_path / "cache").get(("run", 1.0), compute)
    again = ReferenceCache(tmp_path / "cache").get(("run", 1.0), compute)  # another worker, another submission
    other = ReferenceCache(tmp_path / "cache").get(("run", 2.0), compute)
    assert len(calls) == 2
    assert torch.equal(first["what"], again["what"]) and first["final"] == again["final"] == (0.1, -0.2)
    assert not torch.equal(first["what"], other["what"])
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 2



def test_cache_without_a_folder_keeps_values_for_its_own_lifetime(tmp_path):
    calls = []
    cache = ReferenceCache()
    for _ in range(3):
        cache.get(("run",), lambda: calls.append(1) or torch.ones(2))
    ReferenceCache().get(("run",), lambda: calls.append(1) or torch.ones(2))
    assert len(calls) == 2
    cache.get(("run",), lambda: torch.ones(2)).zero_()  # a check that spoils its copy
    assert cache.get(("run",), lambda: torch.ones(2)).tolist() == [1.0, 1.0]



def _slow_count(folder, counter):
    def compute():
        with open(counter, "a") as f:
            f.write("x")
        time.sleep(1.0)  # long enough that the second worker asks while the first computes
        return torch.arange(3)

    return ReferenceCache(folder).get(("slow",), compute).tolist()



def test_workers_asking_at_once_wait_for_one_computation(tmp_path):
    counter = tmp_path / "computed"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        values = pool.starmap(_slow_count, [(tmp_path / "cache", counter)] * 2)
    assert values == [[0, 1, 2]] * 2
    assert counter.read_text() == "x"



def test_checks_get_the_run_s_cache_as_a_fixture(tmp_path):
    checks = tmp_path / "autograder"
    _write_checks(checks, '''
        import pytest
        import torch

        @pytest.mark.check("q1", points=1)
        def test_uses_cache(sub, reference_cache):
            value = reference_cache.get(("double", 21), lambda: torch.tensor(42))
            assert sub.number("n") == value.item(), "n should be 42"
    ''')
    harvest({"n": 42}, [{"name": "n", "kind": "value"}], str(tmp_path / "artifacts" / "q1"))
    cache = ReferenceCache(tmp_path / "cache")
    (result,), _ = run_checks(checks, tmp_path, tmp_path / "artifacts", {}, reference_cache=cache)
    assert result.passed
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1



def test_an_artifact_is_read_once_per_submission_and_each_check_gets_its_own_copy(tmp_path, monkeypatch):
    checks = tmp_path / "autograder"
    _write_checks(checks, '''
        import pytest

        @pytest.mark.check("q1", points=1)
        def test_spoils_its_copy(sub):
            records = sub.value("records")
            records[0][0] = 99.0
            sub.tensor("t").zero_()
            assert records[0][0] == 99.0

        @pytest.mark.check("q1", points=1)
        def test_sees_the_original(sub):
            assert sub.value("records")[0][0] == 0.5 and sub.tensor("t").sum().item() == 3.0, "changed"
    ''')
    harvest({"records": [[0.5, 1.5]] * 3, "t": torch.ones(3)}, [{"name": n, "kind": "value"} for n in ("records", "t")],
            str(tmp_path / "artifacts" / "q1"))
    loads = []
    real_load = checks_module.load_payload
    monkeypatch.setattr(checks_module, "load_payload", lambda stem: loads.append(stem.name) or real_load(stem))
    results, _ = run_checks(checks, tmp_path, tmp_path / "artifacts", {})
    assert all(r.passed for r in results), [r.message for r in results]
    assert sorted(loads) == ["records", "t"]

def test_two_questions_with_an_answer_of_the_same_name_each_get_their_own(tmp_path):
    checks = tmp_path / "autograder"
    _write_checks(checks, '''
        import pytest

        @pytest.mark.check("q1", points=1)
        def test_q1(sub):
            assert sub.value("answer") == [1.0] and sub.tensor("t").sum().item() == 1.0

        @pytest.mark.check("q2", points=1)
        def test_q2(sub):
            assert sub.value("answer") == [2.0] and sub.tensor("t").sum().item() == 2.0
    ''')
    for question, number in (("q1", 1.0), ("q2", 2.0)):
        harvest({"answer": [number], "t": torch.tensor([number])}, [{"name": n, "kind": "value"} for n in ("answer", "t")],
                str(tmp_path / "artifacts" / question))
    results, _ = run_checks(checks, tmp_path, tmp_path / "artifacts", {})
    assert [r.passed for r in results] == [True, True], [r.message for r in results]


def test_fresh_copy_shares_nothing_mutable_and_equals_deepcopy():
    value = {"rows": [[1.0, 2.0], [3.0, None]], "t": torch.ones(2), "pair": (1, [2])}
    copied = checks_module.fresh_copy(value)
    assert repr(copied) == repr(copy.deepcopy(value))
    copied["rows"][0][0] = 9.0
    copied["t"] += 1
    copied["pair"][1].append(3)
    assert value == {"rows": [[1.0, 2.0], [3.0, None]], "t": value["t"], "pair": (1, [2])}
    assert torch.equal(value["t"], torch.ones(2))
