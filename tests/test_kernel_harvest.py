"""The kernel-side harvester, called directly (in the grader it runs inside the student's kernel)."""

import json
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from assignkit.checks import load_payload
from assignkit.kernel_harvest import FLOATS_KEY, MAX_DEPTH, MIN_FLOATS, PLAIN_MAX_CHARS, harvest


def _harvest(tmp_path, namespace, plan):
    out = tmp_path / "out"
    harvest(namespace, plan, str(out))
    return out, json.loads((out / "manifest.json").read_text())


def _load(out, name):
    return load_payload(out / name)


def test_values_become_plain_tensors_numbers_and_lists(tmp_path):
    namespace = {"t": torch.nn.Parameter(torch.ones(2, 1)), "a": np.arange(3.0), "n": 3, "s": "C",
                 "record": ([torch.zeros(2)], [0.5, np.float32(0.25)], {"w": (1.0, 2.0)})}
    plan = [{"name": name, "kind": "value"} for name in namespace]
    out, manifest = _harvest(tmp_path, namespace, plan)
    assert all(entry["ok"] for entry in manifest.values())
    assert type(_load(out, "t")["value"]) is torch.Tensor
    assert torch.equal(_load(out, "a")["value"], torch.arange(3.0, dtype=torch.float64))
    assert _load(out, "record")["value"][1] == [0.5, 0.25]
    assert _load(out, "record")["value"][2] == {"w": [1.0, 2.0]}


def test_objects_that_could_lie_are_refused(tmp_path):
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    class SneakyFloat(float):
        pass

    namespace = {"obj": AlwaysEqual(), "f": SneakyFloat(1.0), "d": {1: 2}}
    out, manifest = _harvest(tmp_path, namespace, [{"name": n, "kind": "value"} for n in namespace])
    assert not any(entry["ok"] for entry in manifest.values())
    assert "AlwaysEqual cannot be graded" in manifest["obj"]["error"]


def test_missing_name_is_reported_not_raised(tmp_path):
    out, manifest = _harvest(tmp_path, {}, [{"name": "net", "kind": "module"}])
    assert manifest["net"]["ok"] is False and manifest["net"]["error"].startswith("net is not defined")


def test_module_saves_layers_and_state_dict(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    out, manifest = _harvest(tmp_path, {"net": net}, [{"name": "net", "kind": "module"}])
    assert [layer["type"] for layer in manifest["net"]["layers"]] == ["Linear", "ReLU", "Linear"]
    assert torch.equal(_load(out, "net")["state_dict"]["2.weight"], net[2].weight.detach())


def test_function_is_called_on_each_input_and_errors_are_kept(tmp_path):
    calls = [[[[1.0], [2.0]]], [[[3.0]]], [7]]

    def square(v):
        if not isinstance(v, torch.Tensor):
            raise TypeError("tensors only")
        return v**2

    out, manifest = _harvest(tmp_path, {"f": square}, [{"name": "f", "kind": "function", "calls": calls}])
    results = _load(out, "f")["calls"]
    assert torch.equal(results[0]["output"], torch.tensor([[1.0], [4.0]]))
    assert results[2] == {"output": None, "error": "f raised TypeError: tensors only", "message": "{name} raised {error}",
                          "params": {"name": "f", "error": "TypeError: tensors only"}}


def test_an_object_lying_about_its_class_is_refused(tmp_path):
    class Liar:
        @property
        def __class__(self):
            return torch.Tensor

    def liar_output(v):
        return Liar()

    plan = [{"name": "t", "kind": "value"}, {"name": "f", "kind": "function", "calls": [[1]]}]
    out, manifest = _harvest(tmp_path, {"t": Liar(), "f": liar_output}, plan)
    assert "Liar cannot be graded" in manifest["t"]["error"]
    assert _load(out, "f")["calls"][0]["error"].startswith("the output of f cannot be graded")


def test_too_many_numbers_are_refused(tmp_path):
    namespace = {"big": [torch.zeros(3_000_000)] * 2, "long": [0.5] * 5_000_001}
    out, manifest = _harvest(tmp_path, namespace, [{"name": n, "kind": "value"} for n in namespace])
    assert "more than" in manifest["big"]["error"] and "more than" in manifest["long"]["error"]


def test_a_list_of_numbers_is_kept_as_the_element_by_element_path_keeps_it(tmp_path):
    class SneakyFloat(float):
        pass

    def nested(levels, inner):
        return inner if levels == 0 else [nested(levels - 1, inner)]

    namespace = {"mixed": (1, 2.5, True, -0.0), "empty": [], "sneaky": [1.0, SneakyFloat(2.0)],
                 "deepest": nested(MAX_DEPTH - 1, [1.0, 2.0]), "too_deep": nested(MAX_DEPTH, [1.0])}
    out, manifest = _harvest(tmp_path, namespace, [{"name": n, "kind": "value"} for n in namespace])
    mixed = _load(out, "mixed")["value"]
    assert mixed == [1, 2.5, True, -0.0] and [type(v) for v in mixed] == [int, float, bool, float]
    assert _load(out, "empty")["value"] == [] and _load(out, "deepest")["value"] == namespace["deepest"]
    assert "SneakyFloat cannot be graded" in manifest["sneaky"]["error"]
    assert "nested more than" in manifest["too_deep"]["error"]


RECORDED_RUN = r'''
import json, sys, torch
from assignkit.kernel_harvest import harvest, install_recorder
install_recorder()
x = torch.linspace(-1, 1, 20).reshape(-1, 1)
y = (x > 0).float()
net = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1), torch.nn.Sigmoid())
opt = torch.optim.Adam(net.parameters(), lr=0.01)
for _ in range(5):
    loss = torch.nn.BCELoss()(torch.sigmoid(net(x)), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
other = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
for _ in range(3):
    ((net(x) - y) ** 2).mean().backward()
    other.step()
plan = [{"name": "net", "kind": "module"}]
harvest({"net": net}, plan, sys.argv[1] + "/q1", record=True)
opt.step()
harvest({"net": net}, plan, sys.argv[1] + "/q1b")  # a question that does not record: its counts are dropped
harvest({"net": net}, plan, sys.argv[1] + "/q2", record=True)
sys.modules["__assignkit_recorder__"].optimizers = "garbled by the student"
harvest({"net": net}, plan, sys.argv[1] + "/q3", record=True)
for _ in range(2):
    torch.nn.BCELoss()(net(x), y).backward()  # the same kind of loss as in q1, one sigmoid less
harvest({"net": net}, plan, sys.argv[1] + "/q4", record=True)
'''


def test_the_recorder_counts_steps_and_losses_per_question_and_which_net_each_optimizer_trains(tmp_path):
    # In a child process: the recorder changes torch globally, as it does in the student's kernel.
    subprocess.run([sys.executable, "-c", RECORDED_RUN, str(tmp_path)], check=True, timeout=120)
    first = json.loads((tmp_path / "q1" / "record.json").read_text())
    assert first["optimizers"] == [
        {"cls": "Adam", "module": "torch.optim.adam", "steps": 5, "zero_grads": 5, "lr": 0.01, "trains": ["net"]},
        {"cls": "SGD", "module": "torch.optim.sgd", "steps": 3, "zero_grads": 0, "lr": 0.1, "trains": []}]
    assert first["losses"] == [
        {"chain": ["BinaryCrossEntropyBackward0", "SigmoidBackward0", "SigmoidBackward0"], "calls": 5},
        {"chain": ["MeanBackward0", "PowBackward0", "SubBackward0"], "calls": 3}]
    assert not (tmp_path / "q1b" / "record.json").exists()
    assert json.loads((tmp_path / "q2" / "record.json").read_text()) == {
        "optimizers": [], "module_zero_grads": 0, "losses": []}  # counting starts afresh after each harvest
    assert (tmp_path / "q3" / "manifest.json").is_file() and not (tmp_path / "q3" / "record.json").exists()
    assert json.loads((tmp_path / "q4" / "record.json").read_text())["losses"] == [  # read again in each question
        {"chain": ["BinaryCrossEntropyBackward0", "SigmoidBackward0", "AddmmBackward0"], "calls": 2}]


def test_plain_values_are_saved_as_json_and_read_back_exactly(tmp_path):
    record = [[0.1, -0.0, float("nan"), float("inf"), 1e-300, 2**70, True, None, "한글 \ud800"], {"k": [1, 2.5]}]
    namespace = {"record": record, "manifest": [1.5], "t": torch.ones(2)}
    out, manifest = _harvest(tmp_path, namespace, [{"name": n, "kind": "value"} for n in namespace])
    assert all(entry["ok"] for entry in manifest.values())  # `manifest` and `record` do not clash with the grader's files
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "manifest.plain.json", "record.plain.json", "t.pt"]
    back = _load(out, "record")["value"]
    torch.save({"value": record}, tmp_path / "as_torch.pt")
    assert repr(back) == repr(torch.load(tmp_path / "as_torch.pt", weights_only=True)["value"]) == repr(record)
    assert [type(v) for v in back[0]] == [type(v) for v in record[0]]
    assert _load(out, "manifest")["value"] == [1.5]


def test_an_int_too_long_for_json_and_a_large_answer_are_saved_by_torch_as_before(tmp_path):
    big = [1, 0.123456789012345] * (PLAIN_MAX_CHARS // 19)  # ints among the floats: all of it stays in the text
    out, manifest = _harvest(tmp_path, {"n": 10 ** 5000, "big": big}, [{"name": n, "kind": "value"} for n in ("n", "big")])
    assert manifest["n"]["ok"] and manifest["big"]["ok"]
    assert sorted(p.name for p in out.glob("*.pt")) == ["big.pt", "n.pt"] and not list(out.glob("*.plain.json"))
    assert _load(out, "big")["value"] == big


def test_long_lists_of_floats_are_saved_as_float64_beside_the_text_and_read_back_exactly(tmp_path):
    rows = [[random.uniform(-5, 5) for _ in range(2000)] for _ in range(3)]
    rows[0][:4] = [float("nan"), -0.0, float("inf"), 5e-324]
    record = {"yhats": rows, "short": [0.5] * (MIN_FLOATS - 1), "ints": list(range(100)), "mixed": [1, 0.5] * 50,
              "losses": [0.25] * MIN_FLOATS}
    out, manifest = _harvest(tmp_path, {"record": record}, [{"name": "record", "kind": "value"}])
    assert manifest["record"]["ok"]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "record.floats", "record.plain.json"]
    assert (out / "record.floats").stat().st_size == 8 * (3 * 2000 + MIN_FLOATS)
    assert len((out / "record.plain.json").read_text()) < 2000
    back = _load(out, "record")["value"]
    assert repr(back) == repr(record)
    assert {type(v) for row in back["yhats"] for v in row} == {float} and type(back["ints"][0]) is int


def test_a_students_dict_with_the_float_lists_key_is_saved_by_torch(tmp_path):
    value = {FLOATS_KEY: [0, 1], "x": [0.5] * MIN_FLOATS}
    out, manifest = _harvest(tmp_path, {"v": value}, [{"name": "v", "kind": "value"}])
    assert manifest["v"]["ok"] and [p.name for p in out.glob("v.*")] == ["v.pt"]
    assert _load(out, "v")["value"] == value


@pytest.mark.parametrize("tamper", ["cut", "past the end", "not a span", "two keys", "no file"])
def test_float_lists_the_files_do_not_hold_are_unreadable(tmp_path, tamper):
    out, _ = _harvest(tmp_path, {"r": [[0.5] * MIN_FLOATS]}, [{"name": "r", "kind": "value"}])
    text = (out / "r.plain.json").read_text()
    span = json.dumps({FLOATS_KEY: [0, MIN_FLOATS]})
    assert span in text
    if tamper == "cut":
        (out / "r.floats").write_bytes((out / "r.floats").read_bytes()[:-3])
    elif tamper == "no file":
        (out / "r.floats").unlink()
    else:
        forged = {"past the end": {FLOATS_KEY: [1, MIN_FLOATS]}, "not a span": {FLOATS_KEY: [0, True]},
                  "two keys": {FLOATS_KEY: [0, 1], "x": 1}}[tamper]
        (out / "r.plain.json").write_text(text.replace(span, json.dumps(forged)))
    with pytest.raises(ValueError):
        _load(out, "r")
