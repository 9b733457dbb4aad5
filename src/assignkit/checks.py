"""The hidden checks: a pytest plugin with the fixtures of docs/checks.md, run in the grader's process on the
artifacts harvested from one submission. The student's process is gone by then; nothing of theirs runs here."""

from __future__ import annotations

import array
import contextlib
import copy
import fcntl
import hashlib
import io
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

import pytest
import torch

from assignkit.fileio import atomic_write_bytes
from assignkit.harvest import refusal
from assignkit.i18n import Message, gettext_for
from assignkit.kernel_harvest import FLOATS_KEY, FLOATS_SUFFIX, PLAIN_SUFFIX, TENSOR_SUFFIX

LAYERS = {"Linear": torch.nn.Linear, "ReLU": torch.nn.ReLU, "Sigmoid": torch.nn.Sigmoid,
          "Tanh": torch.nn.Tanh, "Identity": torch.nn.Identity}
MAX_FIGURE_POINTS = 400


@dataclass(frozen=True)
class Msg:
    """A check's message in both languages (docs/checks.md); the run's language picks the one a student reads.
    Raise it as an AssertionError's message (`assert ok, msg(ko=..., en=...)`); `+` joins messages and plain
    text (the same in both languages, e.g. a number or a name)."""

    ko: str
    en: str

    def __str__(self) -> str:
        return self.en

    def text(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en

    def __add__(self, other: "Msg | str") -> "Msg":
        other = as_msg(other)
        return Msg(self.ko + other.ko, self.en + other.en)

    def __radd__(self, other: str) -> "Msg":
        return as_msg(other) + self


def msg(*, ko: str, en: str) -> Msg:
    """A message in Korean (with the lecture's English terms) and in English."""
    return Msg(ko, en)


def as_msg(text: "Msg | str") -> Msg:
    """`text` as a message: a `Msg` itself, plain text the same in both languages."""
    return text if isinstance(text, Msg) else Msg(text, text)


def _not_harvested(name: str, entry: dict) -> Msg:
    """Why the harvest refused artifact `name`, in both languages when the kernel said it with a message id."""
    refused = refusal(entry)
    if refused is None:
        error = str(entry.get("error"))
        text, names_it = as_msg(error), error.startswith(name + " ")
    else:
        text, names_it = _bilingual(refused), refused.message.startswith("{name} ")
    return text if names_it else msg(ko=f"{name}을(를) 채점할 수 없습니다: ", en=f"{name} could not be graded: ") + text


def _bilingual(message: Message) -> Msg:
    return Msg(ko=message.text("ko"), en=message.text("en"))


def _call_error(call: dict) -> Msg | None:
    """Why a call of the student's function gave nothing to grade, around the exception text Python wrote."""
    if call.get("error") is None:
        return None
    said = refusal(call)
    if said is None:
        return as_msg(str(call["error"]))
    refused = call.get("refused")
    why = refusal(refused) if isinstance(refused, dict) else None
    return _bilingual(Message(said.message, {**said.params, "error": why}) if why is not None else said)


class MissingArtifact(AssertionError):
    """An artifact a check needs is missing, could not be harvested, or is of the wrong kind."""


class ChecksError(RuntimeError):
    """The hidden checks themselves are broken (an instructor's error, not a student's)."""


@dataclass
class Call:
    """One call of a student's function on a hidden input: its output, or why there is none (the student's
    exception text inside a message in both languages)."""

    output: Any
    error: Msg | None


# The loss a `backward()` started from, by the name of the autograd operation that made it. A loss written by
# hand (a mean of squares, minus a mean of logs) ends in a generic operation and has no kind: it is not judged.
LOSS_KINDS = {"MseLossBackward0": "MSELoss", "BinaryCrossEntropyBackward0": "BCELoss",
              "BinaryCrossEntropyWithLogitsBackward0": "BCEWithLogitsLoss", "NllLossBackward0": "CrossEntropyLoss",
              "L1LossBackward0": "L1Loss", "SmoothL1LossBackward0": "SmoothL1Loss", "HuberLossBackward0": "HuberLoss"}
SIGMOID_GRAD = "SigmoidBackward0"


@dataclass(frozen=True)
class OptimizerRun:
    """One optimizer the student's code stepped during a question (kernel_harvest.install_recorder)."""

    cls: str
    module: str
    steps: int
    zero_grads: int  # optimizer.zero_grad() calls
    lr: float | None  # of its first parameter group, at its last step
    trains: tuple[str, ...]  # the question's harvested networks whose parameters it holds


@dataclass(frozen=True)
class LossRun:
    """A loss `backward()` was called on, `calls` times: the operation that made it and the ones below it."""

    chain: tuple[str, ...]
    calls: int

    @property
    def kind(self) -> str | None:
        return LOSS_KINDS.get(self.chain[0]) if self.chain else None

    @property
    def activation_twice(self) -> bool:
        """A sigmoid output fed to another sigmoid before BCELoss, or to BCEWithLogitsLoss (which applies one)."""
        below = self.chain[1:]
        if self.kind == "BCEWithLogitsLoss":
            return below[:1] == (SIGMOID_GRAD,)
        return self.kind == "BCELoss" and below[:2] == (SIGMOID_GRAD, SIGMOID_GRAD)


@dataclass(frozen=True)
class Training:
    """How the networks of one question were trained, as the recorder in the student's process saw it. The
    student's code could have changed it: it explains a failure or confirms a prescription; it never earns
    points by itself (every fit is still recomputed from the weights)."""

    optimizers: tuple[OptimizerRun, ...]
    losses: tuple[LossRun, ...]
    module_zero_grads: int  # net.zero_grad() calls

    def optimizers_of(self, name: str) -> list[OptimizerRun]:
        return [o for o in self.optimizers if name in o.trains]

    def steps_of(self, name: str) -> int:
        return sum(o.steps for o in self.optimizers_of(name))

    def loss_calls(self) -> dict[str, int]:
        """backward() calls per known loss kind."""
        calls: dict[str, int] = {}
        for loss in self.losses:
            if loss.kind:
                calls[loss.kind] = calls.get(loss.kind, 0) + loss.calls
        return calls

    @staticmethod
    def parse(data: Any) -> "Training":
        """From record.json; ValueError (or KeyError, TypeError) when it is not what the recorder writes."""
        optimizers = tuple(OptimizerRun(str(o["cls"]), str(o["module"]), _count(o["steps"]), _count(o["zero_grads"]),
                                        float(o["lr"]) if type(o["lr"]) in (int, float) else None,
                                        tuple(str(n) for n in o["trains"])) for o in data["optimizers"])
        losses = tuple(LossRun(tuple(str(c) for c in loss["chain"]), _count(loss["calls"])) for loss in data["losses"])
        return Training(optimizers, losses, _count(data["module_zero_grads"]))


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"not a count: {value!r}")
    return value


UNANSWERED = msg(ko="미응답: 이 문제의 답 칸(answer cell)이 배포본 그대로이거나 비어 있어 채점하지 않았습니다. 앞 문제에서 "
                    "같은 이름으로 만든 것은 이 문제의 답으로 보지 않습니다.",
                 en="not answered: this question's answer cells are as released (or empty), so it was not graded; "
                    "what an earlier question defined under the same names does not count as its answer.")


class HarvestedQuestion:
    """What one question of one submission left behind, with typed accessors for the checks."""

    def __init__(self, folder: Path, question: str, not_run_reason: str, unanswered: bool = False,
                 loaded: dict[Path, Any] | None = None):
        self.folder = folder
        self.question = question
        self.not_run_reason = not_run_reason
        self.unanswered = unanswered
        self._loaded = {} if loaded is None else loaded  # shared by the checks of one submission: each file read once
        manifest = folder / "manifest.json"
        self.manifest = json.loads(manifest.read_text()) if manifest.is_file() else None

    def _entry(self, name: str) -> dict:
        if self.unanswered:
            raise MissingArtifact(UNANSWERED)
        if self.manifest is None:
            raise MissingArtifact(as_msg(self.not_run_reason) if self.not_run_reason else msg(
                ko=f"문제 {self.question}에서 채점할 것이 남지 않았습니다", en=f"question {self.question} left nothing to grade"))
        entry = self.manifest.get(name)
        if entry is None:
            raise MissingArtifact(msg(ko=f"문제 {self.question}에서 {name}을(를) 수집하지 못했습니다",
                                      en=f"{name} was not collected for question {self.question}"))
        if not entry.get("ok"):
            raise MissingArtifact(_not_harvested(name, entry))
        return entry

    def _payload(self, name: str, kind: str) -> dict:
        entry = self._entry(name)
        if entry["kind"] != kind:
            raise MissingArtifact(msg(ko=f"{name}은(는) {kind}이(가) 아니라 {entry['kind']}(으)로 수집되었습니다",
                                      en=f"{name} was collected as a {entry['kind']}, not a {kind}"))
        try:
            stem = self.folder / name  # the loads are shared by every question of the submission: its folder too
            if stem not in self._loaded:
                self._loaded[stem] = load_payload(stem)
            return fresh_copy(self._loaded[stem])  # each check gets its own copy, whatever an earlier one did
        except Exception as error:  # a file a student's process wrote: any failure means "unreadable"
            raise MissingArtifact(msg(ko=f"{name}을(를) 다시 읽을 수 없습니다 ({type(error).__name__})",
                                      en=f"{name} could not be read back ({type(error).__name__})")) from None

    def value(self, name: str) -> Any:
        return self._payload(name, "value")["value"]

    def tensor(self, name: str, shape: tuple[int, ...] | None = None) -> torch.Tensor:
        value = self.value(name)
        if not isinstance(value, torch.Tensor):
            raise MissingArtifact(msg(ko=f"{name}은(는) torch tensor여야 합니다. 지금은 {self.describe(name).ko}입니다",
                                      en=f"{name} should be a torch tensor; it is {self.describe(name).en}"))
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise MissingArtifact(msg(ko=f"{name}의 shape이 {tuple(value.shape)}입니다. {tuple(shape)}이어야 합니다",
                                      en=f"{name} has shape {tuple(value.shape)}; expected {tuple(shape)}"))
        return value

    def number(self, name: str) -> float:
        value = self.value(name)
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if type(value) not in (int, float) or not math.isfinite(value):
            raise MissingArtifact(msg(ko=f"{name}은(는) 유한한 숫자여야 합니다. 지금은 {self.describe(name).ko}입니다",
                                      en=f"{name} should be a finite number; it is {self.describe(name).en}"))
        return float(value)

    def text(self, name: str) -> str:
        value = self.value(name)
        if not isinstance(value, str):
            raise MissingArtifact(msg(ko=f"{name}은(는) 문자열(string)이어야 합니다. 지금은 {self.describe(name).ko}입니다",
                                      en=f"{name} should be a string; it is {self.describe(name).en}"))
        return value

    def floats(self, name: str) -> list[float]:
        value = self.value(name)
        try:
            return [float(v) for v in (value.flatten().tolist() if isinstance(value, torch.Tensor) else value)]
        except (TypeError, ValueError):
            raise MissingArtifact(msg(ko=f"{name}은(는) 숫자 list여야 합니다. 지금은 {self.describe(name).ko}입니다",
                                      en=f"{name} should be a list of numbers; it is {self.describe(name).en}")) from None

    def calls(self, name: str) -> list[Call]:
        return [Call(c["output"], _call_error(c)) for c in self._payload(name, "function")["calls"]]

    def module(self, name: str) -> torch.nn.Module:
        entry = self._entry(name)
        if entry["kind"] != "module":
            raise MissingArtifact(msg(ko=f"{name}은(는) 신경망(network)이 아니라 {entry['kind']}(으)로 수집되었습니다",
                                      en=f"{name} was collected as a {entry['kind']}, not a network"))
        layers = [_rebuild_layer(name, layer) for layer in entry["layers"]]
        net = torch.nn.Sequential(*layers) if entry["sequential"] else layers[0]
        try:
            net.load_state_dict(self._payload(name, "module")["state_dict"])
        except RuntimeError as error:
            raise MissingArtifact(msg(ko=f"{name}의 가중치(weights)가 층(layers)과 맞지 않습니다: {str(error)[:300]}",
                                      en=f"the weights of {name} do not fit its layers: {str(error)[:300]}")) from None
        return net.eval()

    def training(self) -> Training | None:
        """How this question's networks were trained (questions.toml `record = true`); None when the record is
        missing or garbled (the student's code can reach the recorder), which `expect_trained_as` charges as a
        prescription it cannot confirm."""
        if self.unanswered:
            raise MissingArtifact(UNANSWERED)
        try:
            return Training.parse(json.loads((self.folder / "record.json").read_text()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None

    def describe(self, name: str) -> Msg:
        """What artifact `name` is, in both languages: `a network Linear(1, 2) → ReLU`, `Tensor of shape (3,)`."""
        entry = self._entry(name)
        if entry["kind"] == "module":
            layers = " → ".join(_layer_text(layer) for layer in entry["layers"])
            return msg(ko=f"신경망(network) {layers}", en=f"a network {layers}")
        summary = entry.get("summary_message")
        said = refusal(summary) if isinstance(summary, dict) else None
        return _bilingual(said) if said is not None else as_msg(str(entry.get("summary", entry["kind"])))


def load_payload(stem: Path) -> Any:
    """What the harvest saved (kernel_harvest.save_payload): plain data as JSON with its long lists of floats
    beside it, anything with tensors for torch.load's safe unpickler."""
    plain = stem.with_name(stem.name + PLAIN_SUFFIX)
    if plain.is_file():
        floats = array.array("d")
        floats_path = stem.with_name(stem.name + FLOATS_SUFFIX)
        if floats_path.is_file():
            floats.frombytes(floats_path.read_bytes())  # ValueError unless whole float64 numbers
        return json.loads(plain.read_text(), object_hook=lambda obj: _floats_put_back(obj, floats))
    return torch.load(stem.with_name(stem.name + TENSOR_SUFFIX), weights_only=True, map_location="cpu")


def _floats_put_back(obj: dict, floats: array.array) -> Any:
    """A list of floats for {FLOATS_KEY: [start, count]}; any other object as it is. The files come from the
    student's process: a reference that is not exactly that, or reaches past the numbers, is a ValueError."""
    if FLOATS_KEY not in obj:
        return obj
    span = obj[FLOATS_KEY]
    if len(obj) != 1 or type(span) is not list or len(span) != 2 or any(type(n) is not int or n < 0 for n in span) \
            or span[0] + span[1] > len(floats):
        raise ValueError("a list of floats that is not in the file beside it")
    return floats[span[0]:span[0] + span[1]].tolist()


_IMMUTABLE = frozenset({bool, int, float, str, type(None)})


def fresh_copy(value: Any) -> Any:
    """A copy sharing nothing mutable with `value`: as copy.deepcopy, four times faster on the lists of numbers the
    harvest loads. Without deepcopy's memo: shared parts are copied apart, a cycle (only a crafted file has one)
    ends in RecursionError."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is list:
        return value.copy() if set(map(type, value)) <= _IMMUTABLE else [fresh_copy(v) for v in value]
    if kind is dict:
        return {key: fresh_copy(item) for key, item in value.items()}
    return copy.deepcopy(value)


def _rebuild_layer(name: str, layer: dict) -> torch.nn.Module:
    kind = layer["type"]
    if kind not in LAYERS or not layer["module"].startswith("torch.nn"):
        allowed = ", ".join(LAYERS)
        raise MissingArtifact(msg(ko=f"{name}에 {kind} 층(layer)이 있습니다. torch.nn의 {allowed} 층만 채점할 수 있습니다",
                                  en=f"{name} contains a {kind} layer; only torch.nn {allowed} layers can be graded"))
    if kind == "Linear":
        return torch.nn.Linear(layer["in_features"], layer["out_features"], bias=layer["bias"])
    return LAYERS[kind]()


def _layer_text(layer: dict) -> str:
    if layer["type"] == "Linear":
        return f"Linear({layer['in_features']}, {layer['out_features']})"
    return layer["type"]


# ---------------------------------------------------------------- what checks of every homework repeat

def expect_choice(sub: HarvestedQuestion, name: str, choices: Sequence[str], answer: str, hint: Msg) -> None:
    """A choice question: the string `name` must be one of `choices` and be `answer`; `hint` says where to look
    again (never the answer)."""
    value = sub.value(name)
    if type(value) not in (str, int):
        raise AssertionError(msg(ko=f'{name}은(는) "{choices[0]}" 같은 문자열(string)이어야 합니다. 지금은 '
                                    f"{sub.describe(name).ko}입니다",
                                 en=f'{name} should be a string such as "{choices[0]}"; it is {sub.describe(name).en}'))
    given = str(value).strip().strip("\"'").upper()
    listed = ", ".join(f'"{choice}"' for choice in choices)
    assert given in choices, msg(ko=f"{name}은(는) {listed} 중 하나여야 합니다. 지금은 {given!r}입니다",
                                 en=f"{name} should be one of {listed}; it is {given!r}")
    assert given == answer, msg(ko=f'{name} = "{given}"은(는) 답이 아닙니다. ', en=f'{name} = "{given}" is not right. ') + hint


def architecture(module: torch.nn.Module) -> str:
    """A network as torch code: "Sequential(Linear(1, 2), ReLU(), Linear(2, 1), Sigmoid())" or "Linear(1, 1)"."""
    if isinstance(module, torch.nn.Sequential):
        return "Sequential(" + ", ".join(architecture(layer) for layer in module) + ")"
    if isinstance(module, torch.nn.Linear):
        bias = "" if module.bias is not None else ", bias=False"
        return f"Linear({module.in_features}, {module.out_features}{bias})"
    return f"{type(module).__name__}()"


def expect_architecture(sub: HarvestedQuestion, name: str, expected: str, hint: Msg | str = "") -> torch.nn.Module:
    """The network `name` rebuilt, after checking that it is exactly `expected` (as `architecture` writes it)."""
    net = sub.module(name)
    built = architecture(net)
    assert built == expected, msg(
        ko=f"{name}은(는) torch.nn.{expected}이어야 합니다. 지금은 torch.nn.{built}입니다. 문제에 적힌 그대로 "
           "만드세요 (층(layers), 크기, 출력 활성화 함수(output activation)).",
        en=f"{name} should be torch.nn.{expected}; it is torch.nn.{built}. Build it exactly as the question says "
           "(layers, sizes, output activation).") + hint
    return net


def expect_trained_as(sub: HarvestedQuestion, name: str, *, loss: str, optimizer: str, epochs: int,
                      lr: float | None = None) -> None:
    """The network `name` was trained as the question prescribes, by what the student's process ran: exactly
    `epochs` steps of torch.optim.`optimizer` (at learning rate `lr`, when given) holding its parameters, and
    backward() on torch.nn.`loss` at least that often. A loss written by hand has no kind and is not judged.
    A missing or garbled record fails: a prescription the grader cannot see is not confirmed."""
    training = sub.training()
    assert training is not None, msg(
        ko=f"채점기가 {name}을(를) 어떻게 학습했는지 기록하지 못했습니다 (torch의 optimizer나 backward를 바꾸었나요?). "
           "문제에 적힌 대로 학습했는지 확인할 수 없습니다.",
        en=f"the grader's record of how {name} was trained is missing (were torch's optimizers or backward "
           "changed?), so the training the question prescribes cannot be confirmed.")
    cause = _untrained_cause(training, name)  # not zero_grad: gradients zeroed by hand are not seen
    assert cause is None, cause
    runs = training.optimizers_of(name)
    others = sorted({o.cls for o in runs if o.cls != optimizer or not o.module.startswith("torch.optim")})
    assert not others, msg(
        ko=f"{name}을(를) {', '.join(others)}(으)로 학습했습니다. 문제는 torch.optim.{optimizer}을(를) 씁니다.",
        en=f"{name} was trained with {', '.join(others)}; the question prescribes torch.optim.{optimizer}.")
    if lr is not None:
        rates = sorted({o.lr for o in runs if o.lr is None or not math.isclose(o.lr, lr, rel_tol=1e-9)},
                       key=lambda rate: -1 if rate is None else rate)
        assert not rates, msg(
            ko=f"{name}의 {optimizer} learning rate가 {rates[0]}입니다. 문제는 lr={lr:g}입니다.",
            en=f"the {optimizer} learning rate of {name} is {rates[0]}; the question prescribes lr={lr:g}.")
    steps = training.steps_of(name)
    assert steps == epochs, msg(
        ko=f"{name}을(를) {steps} epochs (optimizer.step() {steps}번) 학습했습니다. 문제는 {epochs} epochs입니다.",
        en=f"{name} was trained for {steps} epochs (optimizer.step() {steps} times); the question prescribes "
           f"{epochs} epochs.")
    calls = training.loss_calls()
    if calls and calls.get(loss, 0) < epochs:
        used = ", ".join(f"{kind} ({count}번)" for kind, count in sorted(calls.items()))
        used_en = ", ".join(f"{kind} ({count} times)" for kind, count in sorted(calls.items()))
        raise AssertionError(msg(
            ko=f"이 문제에서 backward()를 호출한 loss는 {used}입니다. 문제는 torch.nn.{loss}()로 {epochs} epochs "
               "학습합니다: 적합(fit)이 좋아 보여도 다른 손실함수(loss function)는 다른 문제를 풉니다.",
            en=f"the losses backward() was called on in this question are {used_en}; the question prescribes "
               f"{epochs} epochs of torch.nn.{loss}(): even when the fit looks good, another loss function solves "
               "another problem."))


def training_cause(training: Training | None, name: str) -> Msg | None:
    """Why the network `name` did not learn, when the record shows it: no optimizer holds its parameters, no
    optimizer stepped, the output activation applied twice, or no zero_grad() call seen. None otherwise."""
    if training is None:
        return None
    cause = _untrained_cause(training, name)
    runs = training.optimizers_of(name)
    if cause is None and sum(o.steps for o in runs) > 1 and not any(o.zero_grads for o in runs) \
            and not training.module_zero_grads:
        return msg(ko=f"원인: {name}을(를) 학습하는 동안 zero_grad()가 한 번도 호출되지 않았습니다: 기울기(gradient)가 "
                      "epoch마다 쌓입니다. step4에서 optimizer.step() 뒤에 optimizer.zero_grad()를 호출하세요.",
                   en=f"Cause: zero_grad() was never called while {name} was trained, so the gradients add up over "
                      "the epochs: call optimizer.zero_grad() after optimizer.step() in step4.")
    return cause


def _untrained_cause(training: Training, name: str) -> Msg | None:
    """The output activation applied twice, no optimizer on the parameters of `name`, or no step at all."""
    twice = [loss for loss in training.losses if loss.activation_twice]
    if twice:
        logits = twice[0].kind == "BCEWithLogitsLoss"
        return msg(
            ko="원인: 출력 활성화 함수(output activation)를 두 번 적용했습니다. " + (
               "net의 마지막 Sigmoid 출력에 BCEWithLogitsLoss를 썼는데, BCEWithLogitsLoss는 sigmoid를 한 번 더 "
               "적용합니다: Sigmoid가 있는 net에는 BCELoss를 쓰세요." if logits else
               "net 안의 Sigmoid 뒤에 sigmoid를 한 번 더 적용한 값으로 loss를 계산했습니다 (sigmoid(sigmoid(u))는 "
               "0.5에서 0.73 사이뿐입니다): yhat = net(x)를 그대로 loss에 넣으세요."),
            en="Cause: the output activation is applied twice. " + (
               "BCEWithLogitsLoss was used on the output of net's last Sigmoid, and BCEWithLogitsLoss applies a "
               "sigmoid itself: use BCELoss with a net that ends in Sigmoid." if logits else
               "the loss was computed on a sigmoid applied again after net's own Sigmoid (sigmoid(sigmoid(u)) "
               "lies between 0.5 and 0.73 only): pass yhat = net(x) to the loss as it is."))
    runs = training.optimizers_of(name)
    stepped = [o for o in training.optimizers if o.steps]
    if not runs and stepped:
        return msg(ko=f"원인: {name}의 가중치(weights)는 학습되지 않았습니다. 이 문제에서 optimizer.step()이 "
                      f"{sum(o.steps for o in stepped)}번 호출되었지만, 그 optimizer는 {name}의 parameters를 갖고 있지 "
                      f"않습니다: optimizer를 {name}.parameters()로 만드세요 (다른 net으로 만들었거나 optimizer를 만든 "
                      f"뒤에 {name}을(를) 새로 만들었습니다).",
                   en=f"Cause: the weights of {name} never changed. optimizer.step() ran {sum(o.steps for o in stepped)} "
                      f"times in this question, but that optimizer does not hold {name}'s parameters: make it with "
                      f"{name}.parameters() (it was made with another net's, or {name} was made anew after it).")
    if not runs:
        return msg(ko=f"원인: 이 문제에서 optimizer.step()이 한 번도 호출되지 않아 {name}의 가중치(weights)가 바뀌지 "
                      "않았습니다: step4에 optimizer.step()을 넣으세요.",
                   en=f"Cause: optimizer.step() never ran in this question, so the weights of {name} never changed: "
                      "put optimizer.step() in step4.")
    return None


def expect_at_most(what: Msg, value: float, limit: float, hint: Msg | str = "") -> None:
    """A measured threshold: `what` (a sentence subject, in both languages) is `value` and must not exceed
    `limit`."""
    assert value <= limit, what + msg(
        ko=f"은(는) {value:.4g}입니다. 좋은 답은 {limit:.4g} 이하입니다 (기준보다 {value - limit:.2g} 높습니다).",
        en=f" is {value:.4g}; a good answer reaches at most {limit:.4g} (yours is {value - limit:.2g} above the "
           "limit).") + hint


def expect_at_least(what: Msg, value: float, limit: float, hint: Msg | str = "") -> None:
    """A measured threshold: `what` (in both languages) is `value` and must reach at least `limit`."""
    assert value >= limit, what + msg(
        ko=f"은(는) {value:.4g}입니다. 좋은 답은 {limit:.4g} 이상입니다 (기준보다 {limit - value:.2g} 낮습니다).",
        en=f" is {value:.4g}; a good answer reaches at least {limit:.4g} (yours is {limit - value:.2g} below the "
           "limit).") + hint


class ReferenceCache:
    """What the checks compute for themselves from fixed inputs (hw1's re-runs of the lecture's trainings), computed
    once per distinct input and reused: the `reference_cache` fixture.

    With a folder (the run's private scratch, hidden from the sandbox) the values are files shared by every worker
    of the run: one worker computes a value while the others wait for it (a lock file per value), writes it
    atomically, and every reader loads it with `torch.load(weights_only=True)`. Without one, values live as long as
    this object. A value is keyed by a hash of the exact inputs (tensors' dtype, shape and bytes; numbers, strings
    and tuples of them), so two inputs differing in one bit are two values; it must be what `torch.save` writes and
    `weights_only` loads back bit for bit (tensors, numbers, strings, tuples, lists, dicts).
    """

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self._loaded: dict[str, Any] = {}

    def get(self, inputs: tuple, compute: Callable[[], Any]) -> Any:
        """The value computed from `inputs` (everything `compute` depends on, a name for the computation first);
        each call gets its own copy, so a check cannot change what the next one compares against."""
        key = input_key(inputs)
        if key not in self._loaded:
            self._loaded[key] = compute() if self.folder is None else self._shared(key, compute)
        return copy.deepcopy(self._loaded[key])

    def _shared(self, key: str, compute: Callable[[], Any]) -> Any:
        path = self.folder / f"{key}.pt"
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # the reference answers: the grader's alone
        with open(self.folder / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
            if not path.is_file():
                buffer = io.BytesIO()
                torch.save(compute(), buffer)
                atomic_write_bytes(path, buffer.getvalue())
        return torch.load(path, weights_only=True)


def input_key(inputs: Any) -> str:
    """A hash of `inputs`: tensors by dtype, shape and bytes; floats exactly; ints, bools, strings; tuples and lists
    of them. Anything else is a TypeError (it could not be told apart reliably)."""
    digest = hashlib.sha256()
    _feed(digest, inputs)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, (tuple, list)):
        digest.update(f"{type(value).__name__} {len(value)}\0".encode())
        for item in value:
            _feed(digest, item)
    elif type(value) is float:
        digest.update(f"float {value.hex()}\0".encode())
    elif type(value) in (int, bool, str):
        digest.update(f"{type(value).__name__} {value!r}\0".encode())
    else:
        raise TypeError(f"a {type(value).__name__} cannot be part of a reference cache key")


@dataclass
class CheckResult:
    question: str
    name: str
    points: float
    passed: bool
    message: str

    def as_dict(self) -> dict:
        return {"question": self.question, "name": self.name, "points": self.points if self.passed else 0.0,
                "max": self.points, "passed": self.passed, "message": self.message}


class Feedback:
    """Pictures a check attaches to the student's feedback page; titles and series names given as `Msg` are
    written in the run's language `lang`."""

    def __init__(self, question: str, check: str, figures: list[dict], lang: str = "en"):
        self.question, self.check, self.figures, self.lang = question, check, figures, lang

    def curve(self, title: Msg | str, x: Sequence[float], series: dict[Msg | str, Sequence[float]],
              scatter: tuple[Sequence[float], Sequence[float]] | None = None) -> None:
        keep = _thin(len(_floats(x)))
        self.figures.append({"question": self.question, "check": self.check, "kind": "curve",
                             "title": as_msg(title).text(self.lang), "x": _pick(x, keep),
                             "series": {as_msg(k).text(self.lang): _pick(v, keep) for k, v in series.items()},
                             "scatter": [_pick(s, _thin(len(_floats(scatter[0])))) for s in scatter] if scatter else None})

    def heatmap(self, title: Msg | str, x1: Sequence[float], x2: Sequence[float],
                z: Sequence[Sequence[float]]) -> None:
        rows = [_floats(row) for row in (z.tolist() if isinstance(z, torch.Tensor) else z)]
        self.figures.append({"question": self.question, "check": self.check, "kind": "heatmap",
                             "title": as_msg(title).text(self.lang),
                             "x1": _floats(x1), "x2": _floats(x2), "z": rows})


def _floats(values: Any) -> list[float]:
    if isinstance(values, torch.Tensor):
        values = values.detach().flatten().tolist()
    elif hasattr(values, "tolist"):
        values = values.tolist()
    return [round(float(v), 6) for v in values]


def _thin(n: int) -> list[int]:
    step = max(1, math.ceil(n / MAX_FIGURE_POINTS))
    return list(range(0, n, step))


def _pick(values: Any, keep: list[int]) -> list[float]:
    floats = _floats(values)
    return [floats[i] for i in keep if i < len(floats)]


@dataclass
class CheckPlugin:
    """Registered with pytest.main for one submission; collects one CheckResult per check."""

    artifacts_dir: Path
    hidden_dir: Path
    release_dir: Path
    not_run: dict[str, str]
    lang: str  # of the messages written into the results
    unanswered: frozenset[str] = frozenset()  # questions whose answer cells were left as released
    reference_cache: ReferenceCache = field(default_factory=ReferenceCache)
    loaded: dict[Path, Any] = field(default_factory=dict)  # artifact files read back, for this submission's checks
    results: list[CheckResult] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    unmarked: list[str] = field(default_factory=list)

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check(question, points): a hidden check worth points for a question")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.unmarked = [item.nodeid for item in items if item.get_closest_marker("check") is None]

    @pytest.fixture
    def sub(self, request: pytest.FixtureRequest) -> HarvestedQuestion:
        question = _question_of(request.node)
        return HarvestedQuestion(self.artifacts_dir / question, question, self.not_run.get(question, ""),
                                 question in self.unanswered, self.loaded)

    @pytest.fixture(name="hidden_dir")
    def hidden_dir_fixture(self) -> Path:
        return self.hidden_dir

    @pytest.fixture(name="release_dir")
    def release_dir_fixture(self) -> Path:
        return self.release_dir

    @pytest.fixture(name="reference_cache")
    def reference_cache_fixture(self) -> ReferenceCache:
        return self.reference_cache

    @pytest.fixture
    def feedback(self, request: pytest.FixtureRequest) -> Feedback:
        return Feedback(_question_of(request.node), request.node.name, self.figures, self.lang)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        yield
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            marker = item.get_closest_marker("check")
            if marker is not None:
                question, passed = _question_of(item), call.excinfo is None
                message = _message(call.excinfo, self.lang)
                self.results.append(CheckResult(question, item.name, float(marker.kwargs.get("points", 1)), passed,
                                                "" if passed else self._said_once(question, message)))

    def _said_once(self, question: str, message: str) -> str:
        """A failure that repeats, word for word, an earlier failed check of the same question (a wrong
        architecture, a missing variable, a question that did not run) points at that check instead."""
        first = next((r for r in self.results if r.question == question and not r.passed and r.message == message),
                     None)
        if first is None or not message:
            return message
        _ = gettext_for(self.lang)
        return _("not checked: {check} failed above for the same reason").format(check=first.name)


def _question_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("check")
    if marker is None or not marker.args:
        raise ChecksError(f"{item.nodeid} has no @pytest.mark.check(question, points=...)")
    return marker.args[0]


def _message(excinfo: pytest.ExceptionInfo | None, lang: str) -> str:
    """What a student reads of a failed check, in `lang`: a `Msg` in that language; a plain message as written."""
    if excinfo is None:
        return ""
    error = excinfo.value
    _ = gettext_for(lang)
    if isinstance(error, AssertionError):
        given = error.args[0] if len(error.args) == 1 else None
        if isinstance(given, Msg):
            return given.text(lang)
        return str(error) or _("this check failed")
    return _("this check could not evaluate your answer ({error})").format(
        error=f"{type(error).__name__}: {str(error)[:300]}")


@contextlib.contextmanager
def _no_assertion_rewriting():
    """Take out the import hook of a pytest run that calls us (the kit's own tests): rewritten asserts would
    put the check's source text into the message a student sees."""
    hooks = [hook for hook in sys.meta_path if type(hook).__name__ == "AssertionRewritingHook"]
    for hook in hooks:
        sys.meta_path.remove(hook)
    try:
        yield
    finally:
        sys.meta_path[:0] = hooks


# pytest's plugins that report exceptions raised in __del__ and in threads run gc.collect() several times per
# session: in a worker holding torch, pandas and matplotlib that was half of a warm run_checks (benchmarks/README.md).
# The checks' verdicts never depended on them (warnings are ignored), now they cannot depend on when gc runs.
# Log capture attaches its handler to each of torch's non-propagating loggers at every phase of every check (10 % of
# hw1's checks; no check reads logs). Plugins installed on the grading machine (found by their entry points) never
# run among the checks: the verdicts are the same on every machine.
PLUGINS_OFF = ("-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:logging",
               "--disable-plugin-autoload")

# Modules imported from each homework's folder, kept while another homework's checks run (see homework_imports).
_IMPORTED: dict[str, dict[str, ModuleType]] = {}


@contextlib.contextmanager
def homework_imports(autograder_folder: Path):
    """Let a homework's check files import the modules beside them by name (`import reference`).

    The folder goes first on sys.path while its checks run. Modules imported from it stay loaded between runs
    in this process (imported once per worker), but they are taken out of sys.modules while another homework's
    checks run, so two homeworks may each have a helper of the same name.
    """
    folder = str(Path(autograder_folder).resolve())
    sys.modules.update(_IMPORTED.pop(folder, {}))
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.path.remove(folder)
        inside = [name for name, module in sys.modules.items()
                  if (getattr(module, "__file__", None) or "").startswith(folder + os.sep)]
        _IMPORTED[folder] = {name: sys.modules.pop(name) for name in inside}


def run_checks(autograder_folder: Path, release_folder: Path, artifacts_dir: Path,
               not_run: dict[str, str], lang: str = "en", unanswered: frozenset[str] = frozenset(),
               reference_cache: ReferenceCache | None = None) -> tuple[list[CheckResult], list[dict]]:
    """Run every hidden check of a homework on one submission's artifacts; messages in `lang`. Every check of a
    question in `unanswered` fails as not answered (reported once). `reference_cache`: what the checks compute for
    themselves, shared with other submissions (by default kept for this call only)."""
    plugin = CheckPlugin(artifacts_dir, autograder_folder, release_folder, not_run, lang, frozenset(unanswered),
                         reference_cache or ReferenceCache())
    # --tb=native: the plugin takes each failure's message itself; pytest's own report of it (by default the
    # source of every frame, parsed) is only shown when the checks did not run at all
    args = [str(autograder_folder), "-q", "-p", "no:cacheprovider", "--assert=plain", "--tb=native", "-c", os.devnull,
            "--import-mode=importlib", "--rootdir", str(autograder_folder.parent), "-W", "ignore", *PLUGINS_OFF]
    with contextlib.redirect_stdout(io.StringIO()) as output, _no_assertion_rewriting(), homework_imports(autograder_folder):
        exit_code = pytest.main(args, plugins=[plugin])
    if plugin.unmarked:
        raise ChecksError(f"checks without @pytest.mark.check: {', '.join(plugin.unmarked)}")
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise ChecksError(f"the hidden checks in {autograder_folder} did not run ({exit_code!r}):\n{output.getvalue()[-3000:]}")
    return plugin.results, plugin.figures


@dataclass(frozen=True)
class MarkedCheck:
    """One hidden check as its marker declares it, and where it is written."""

    question: str | None  # None: the function has no @pytest.mark.check(question, ...)
    points: float
    path: Path
    line: int  # 1-based, of its first decorator (the marker)
    name: str


@dataclass
class _MarkerCollector:
    checks: list[MarkedCheck] = field(default_factory=list)

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check(question, points): a hidden check worth points for a question")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker("check")
            path, line, _ = item.reportinfo()
            question = marker.args[0] if marker is not None and marker.args else None
            points = float(marker.kwargs.get("points", 1)) if marker is not None else 0.0
            self.checks.append(MarkedCheck(question, points, Path(path), (line or 0) + 1, item.name))


def marked_checks(autograder_folder: Path) -> list[MarkedCheck]:
    """Every hidden check of a homework with its marker, collected without running any."""
    collector = _MarkerCollector()
    args = [str(autograder_folder), "-q", "--collect-only", "-p", "no:cacheprovider", "-c", os.devnull, "--import-mode=importlib",
            "--rootdir", str(autograder_folder.parent), *PLUGINS_OFF]
    with contextlib.redirect_stdout(io.StringIO()) as output, homework_imports(autograder_folder):
        exit_code = pytest.main(args, plugins=[collector])
    if exit_code != pytest.ExitCode.OK:
        raise ChecksError(f"the hidden checks in {autograder_folder} cannot be collected:\n{output.getvalue()[-3000:]}")
    return collector.checks


def question_points(autograder_folder: Path) -> dict[str, float]:
    """The points each question's checks are worth, read from their markers without running them."""
    checks = marked_checks(autograder_folder)
    unmarked = [f"{c.path}:{c.line} {c.name}" for c in checks if c.question is None]
    if unmarked:
        raise ChecksError(f"the hidden checks in {autograder_folder} cannot be collected (unmarked: {unmarked})")
    return points_by_question(checks)


def points_by_question(checks: list[MarkedCheck]) -> dict[str, float]:
    """What each question's marked checks are worth together."""
    points: dict[str, float] = {}
    for check in checks:
        points[check.question] = points.get(check.question, 0.0) + check.points
    return points
