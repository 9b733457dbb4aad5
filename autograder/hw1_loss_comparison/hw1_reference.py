"""Reference computations shared by the hw1 checks and calibrate.py.

All of this runs in the grader, never in the student's process: the toy data as the release ships it, the
lecture's runs re-run from their prescribed start, optimizer and data, and the conversion of harvested records
(nested lists or tensors) into float64 tensors with messages a student can act on.

Re-runs go through the checks' `reference_cache` fixture, keyed by the exact data and recipe: a grading run
trains each reference run once, whatever the number of submissions and workers.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import torch

from assignkit.checks import Msg, ReferenceCache, as_msg, msg

SEED = 43052
LR = 0.05
EPOCHS, EVERY = 1000, 20
RECORDS = EPOCHS // EVERY  # 50 records: epochs 0, 20, ..., 980
N = 2000
GOOD, BAD = (-3.0, -1.0), (-10.0, -1.0)  # starting (bias, weight) = (w0hat, w1hat)
# The lecture's visualisations 1-4, in this order, for SGD (Q4) and for Adam (Q5).
RUNS = (("MSE", GOOD), ("BCE", GOOD), ("MSE", BAD), ("BCE", BAD))
LOSSES = {"MSE": torch.nn.MSELoss, "BCE": torch.nn.BCELoss}
OPTIMIZERS = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam}


@dataclass(frozen=True)
class Record:
    """What `record` returns, as float64 tensors, plus where training ended."""

    yhats: torch.Tensor  # (RECORDS, n)
    losses: torch.Tensor  # (RECORDS,)
    what: torch.Tensor  # (RECORDS, 2): (bias, weight) that produced yhats[k] and losses[k]
    final: tuple[float, float]  # (bias, weight) after the last epoch


_TOYS: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}


def toy(release_dir: Path) -> tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(content key, x, y, underlying) of release_dir/hw1_toy.csv, read exactly as the notebook reads it."""
    raw = (Path(release_dir) / "hw1_toy.csv").read_bytes()
    key = hashlib.sha256(raw).hexdigest()
    if key not in _TOYS:
        df = pd.read_csv(Path(release_dir) / "hw1_toy.csv")
        _TOYS[key] = tuple(torch.tensor(df[c].values, dtype=torch.float32).reshape(-1, 1)
                           for c in ("x", "y", "underlying"))
    return (key, *_TOYS[key])


def seed_start() -> tuple[float, float]:
    """(bias, weight) of a fresh Linear(1, 1) after torch.manual_seed(43052); the grader's RNG is left as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        layer = torch.nn.Linear(1, 1)
    return layer.bias.item(), layer.weight.item()


def train(x: torch.Tensor, y: torch.Tensor, loss: str, optimizer: str, start: tuple[float, float],
          lr: float = LR, epochs: int = EPOCHS, every: int = EVERY) -> Record:
    """The reference recorder: step1-4 for `epochs` epochs, recording before step4 every `every` epochs."""
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    net[0].bias.data = torch.tensor([start[0]])
    net[0].weight.data = torch.tensor([[start[1]]])
    loss_fn = LOSSES[loss]()
    opt = OPTIMIZERS[optimizer](net.parameters(), lr=lr)
    yhats, losses, what = [], [], []
    for epoch in range(epochs):
        yhat = net(x)
        value = loss_fn(yhat, y)
        if epoch % every == 0:
            yhats.append(yhat.detach().reshape(-1))
            losses.append(value.item())
            what.append([net[0].bias.item(), net[0].weight.item()])
        value.backward()
        opt.step()
        opt.zero_grad()
    return Record(torch.stack(yhats).double(), torch.tensor(losses, dtype=torch.float64),
                  torch.tensor(what, dtype=torch.float64), (net[0].bias.item(), net[0].weight.item()))


def rerun(cache: ReferenceCache, release_dir: Path, loss: str, optimizer: str, start: tuple[float, float]) -> Record:
    """The grader's own run of the lecture's recipe on the released data, trained once per run (`cache`)."""
    _, x, y, _ = toy(release_dir)
    inputs = ("hw1_reference.train", x, y, loss, optimizer, start, LR, EPOCHS, EVERY)
    return Record(**cache.get(inputs, lambda: asdict(train(x, y, loss, optimizer, start))))


def epoch_path(cache: ReferenceCache, release_dir: Path, loss: str, optimizer: str,
               start: tuple[float, float]) -> torch.Tensor:
    """(EPOCHS + 1, 2) float64: (bias, weight) before step4 of each epoch of the lecture's run, then where it ends;
    the grader's re-run (once per run, `cache`), to tell at which epochs a student's records were taken."""
    _, x, y, _ = toy(release_dir)
    inputs = ("hw1_reference.epoch_path", x, y, loss, optimizer, start, LR, EPOCHS)
    return cache.get(inputs, lambda: _epoch_path(x, y, loss, optimizer, start))


def _epoch_path(x: torch.Tensor, y: torch.Tensor, loss: str, optimizer: str, start: tuple[float, float]) -> torch.Tensor:
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    net[0].bias.data = torch.tensor([start[0]])
    net[0].weight.data = torch.tensor([[start[1]]])
    loss_fn, opt = LOSSES[loss](), OPTIMIZERS[optimizer](net.parameters(), lr=LR)
    path = []
    for _ in range(EPOCHS):
        value = loss_fn(net(x), y)
        path.append([net[0].bias.item(), net[0].weight.item()])
        value.backward()
        opt.step()
        opt.zero_grad()
    path.append([net[0].bias.item(), net[0].weight.item()])
    return torch.tensor(path, dtype=torch.float64)


def recorded_epochs(what: torch.Tensor, path: torch.Tensor, tolerance: float) -> int | None:
    """The first epoch of a record taken every EVERY epochs, when `what` matches the re-run's path at epochs
    offset, offset + EVERY, ... for some offset other than 0; None otherwise."""
    for offset in range(1, EVERY):
        taken = path[offset::EVERY][:RECORDS]
        if len(taken) == len(what) and (what - taken).abs().max().item() <= tolerance:
            return offset
    return None


LINEAR_SIGMOID = "Sequential(Linear(1, 1), Sigmoid())"  # as assignkit.checks.architecture writes it


def bce_optimum(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """The (w0, w1) minimising BCE on the data (maximum likelihood), by Newton's method in float64."""
    X = torch.cat([torch.ones_like(x), x], dim=1).double()
    t = y.double().reshape(-1)
    w = torch.zeros(2, dtype=torch.float64)
    for _ in range(50):
        p = torch.sigmoid(X @ w)
        gradient = X.T @ (p - t) / len(t)
        hessian = (X * (p * (1 - p)).reshape(-1, 1)).T @ X / len(t)
        w = w - torch.linalg.solve(hessian, gradient)
    return w[0].item(), w[1].item()


# ---- harvested values -> tensors ------------------------------------------------------------------------------


ONE_LOSS = msg(ko="loss 하나", en="one loss")


class Malformed(AssertionError):
    """A harvested value does not have the form the question asks for (the message says what is wrong)."""


def flat(value, name: str) -> torch.Tensor:
    """Every number inside `value` (a number, a tensor, or nested lists of them) as one 1-D float64 tensor."""
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype == torch.bool:
            raise Malformed(msg(ko=f"{name}에 {value.dtype} 값이 들어 있습니다. 실수(real numbers)여야 합니다",
                                en=f"{name} holds {value.dtype} values; expected real numbers"))
        return value.detach().reshape(-1).to(torch.float64)
    if type(value) in (int, float):
        return torch.tensor([float(value)], dtype=torch.float64)
    if isinstance(value, list):
        if set(map(type, value)) <= {int, float}:  # not bool
            return torch.tensor(value, dtype=torch.float64).reshape(-1)
        parts = [flat(v, name) for v in value]
        return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)
    raise Malformed(msg(ko=f"{name}에 {type(value).__name__}이(가) 들어 있습니다. 숫자(float, float의 list, tensor)"
                           "여야 합니다",
                        en=f"{name} holds a {type(value).__name__}; expected numbers (floats, lists of floats or "
                           "tensors)"))


def rows(value, name: str, count: int, width: int, what: Msg | str) -> torch.Tensor:
    """`value` as a (count, width) float64 tensor: a list of `count` records of `width` numbers each."""
    if isinstance(value, torch.Tensor) and value.dim() >= 1:
        records = list(value)
    elif isinstance(value, list):
        records = value
    else:
        raise Malformed(msg(ko=f"{name}은(는) 기록(record) {count}개의 list여야 합니다. 지금은 {type(value).__name__}"
                               "입니다",
                            en=f"{name} should be a list of {count} records; it is a {type(value).__name__}"))
    if len(records) != count:
        raise Malformed(msg(ko=f"{name}에 기록(record)이 {len(records)}개 있습니다. {count}개여야 합니다 ({EPOCHS} "
                               f"epoch 동안 {EVERY} epoch마다 하나: epoch 0, {EVERY}, ..., {EPOCHS - EVERY})",
                            en=f"{name} has {len(records)} records; expected {count} (one every {EVERY} epochs over "
                               f"{EPOCHS} epochs: epochs 0, {EVERY}, ..., {EPOCHS - EVERY})"))
    out = [flat(r, f"{name}[{k}]") for k, r in enumerate(records)]
    for k, r in enumerate(out):
        if r.numel() != width:
            what = as_msg(what)
            raise Malformed(msg(ko=f"{name}[{k}]에 숫자가 {r.numel()}개 있습니다. {width}개여야 합니다 ({what.ko})",
                                en=f"{name}[{k}] has {r.numel()} numbers; expected {width} ({what.en})"))
    result = torch.stack(out)
    if not torch.isfinite(result).all():
        raise Malformed(msg(ko=f"{name}에 nan 또는 inf가 있습니다", en=f"{name} contains nan or inf"))
    return result


def trajectory_problem(what: torch.Tensor, expected: torch.Tensor, tolerance: float,
                       path: Callable[[], torch.Tensor] | None = None) -> Msg | None:
    """None when `what` follows `expected` within tolerance, else a sentence saying where it leaves it. `path`
    gives the re-run's (bias, weight) at every epoch (epoch_path), computed only when `what` does not follow."""
    if (what - expected).abs().max().item() <= tolerance:
        return None
    offset = recorded_epochs(what, path(), tolerance) if path is not None else None
    if offset is not None:
        return _offset_problem(offset)
    start, want = what[0].tolist(), expected[0].tolist()
    if (what[:, [1, 0]] - expected).abs().max().item() <= tolerance:
        return msg(ko="각 기록에 (weight, bias) 순서로 들어 있습니다. [bias, weight] = [w0hat, w1hat] 순서로 "
                      "기록하세요",
                   en="it holds (weight, bias) in each record; record [bias, weight] = [w0hat, w1hat] in that order")
    if max(abs(a - b) for a, b in zip(start, want)) > tolerance:
        return msg(ko=f"(w0hat, w1hat) = ({start[0]:.4f}, {start[1]:.4f})에서 시작합니다. 이 run은 "
                      f"({want[0]:.4f}, {want[1]:.4f})에서 시작합니다: 시작 bias와 weight를 확인하고, what[0]을 step4가 "
                      "바꾸기 전에 기록하는지 확인하세요",
                   en=f"it starts at (w0hat, w1hat) = ({start[0]:.4f}, {start[1]:.4f}); this run starts at "
                      f"({want[0]:.4f}, {want[1]:.4f}): check the starting bias and weight, and that what[0] is "
                      "recorded before step4 changes them")
    k = int(((what - expected).abs().max(dim=1).values > tolerance).nonzero()[0])
    got, want = what[k].tolist(), expected[k].tolist()
    return msg(ko=f"epoch {k * EVERY}에서 ({got[0]:.4f}, {got[1]:.4f})에 있습니다. 채점기의 재실행(re-run)은 "
                  f"({want[0]:.4f}, {want[1]:.4f})에 있습니다: 손실 함수(loss function), optimizer와 learning rate, "
                  "그리고 step1-4를 확인하세요",
               en=f"at epoch {k * EVERY} it is at ({got[0]:.4f}, {got[1]:.4f}); the grader's re-run is at "
                  f"({want[0]:.4f}, {want[1]:.4f}): check the loss function, the optimizer and its learning rate, "
                  "and step1-4")


def _offset_problem(offset: int) -> Msg:
    epochs = f"{offset}, {offset + EVERY}, {offset + 2 * EVERY}, ..."
    if offset == 1:
        return msg(ko=f"각 기록이 epoch {epochs}의 (w0hat, w1hat), 곧 step4가 바꾼 뒤의 값입니다. 같은 epoch의 yhat, "
                      "loss와 맞도록 step4 전에 기록하세요",
                   en=f"each record holds (w0hat, w1hat) of epochs {epochs}, that is after step4 changed them; record "
                      "them before step4, so that they match the yhat and loss of the same epoch")
    return msg(ko=f"각 기록이 epoch {epochs}의 값입니다. epoch 0, {EVERY}, {2 * EVERY}, ...에서 기록해야 합니다 "
                  f"(첫 기록은 학습 전의 시작값): 조건을 epoch % every == 0으로 쓰세요",
               en=f"the records are those of epochs {epochs}; they should be taken at epochs 0, {EVERY}, "
                  f"{2 * EVERY}, ... (the first one is the start, before any training): record when "
                  "epoch % every == 0")


def check_run(whats, losses, k: int, optimizer: str, runs_name: str, release_dir: Path, cache: ReferenceCache,
              tol_what: float, tol_loss: float) -> None:
    """Run k (1-4) of Q4 (SGD) or Q5 (Adam): its what and losses, harvested as the lists `whats` and `losses` of
    the four runs, against the grader's re-run. Raises an AssertionError that says what is wrong."""
    for name, value in (("what", whats), ("losses", losses)):
        if not isinstance(value, list) or len(value) != 4:
            raise Malformed(msg(ko=f"{runs_name}은(는) 네 run의 list [run1, run2, run3, run4]여야 하고, 각각은 record가 "
                                   f"돌려주는 (yhats, losses, what)이어야 합니다. 그 {name}을(를) 네 run으로 읽을 수 "
                                   "없습니다",
                                en=f"{runs_name} should be a list of the four runs [run1, run2, run3, run4], each "
                                   f"(yhats, losses, what) as record returns it; its {name} could not be read as "
                                   "four runs"))
    label = f"{runs_name}[{k - 1}] (run {k})"
    what = rows(whats[k - 1], f"what of {label}", RECORDS, 2, "[bias, weight] = [w0hat, w1hat]")
    loss_values = rows(losses[k - 1], f"losses of {label}", RECORDS, 1, ONE_LOSS).reshape(-1)
    loss, start = RUNS[k - 1]
    expected = rerun(cache, release_dir, loss, optimizer, start)
    setup = f"run {k} ({loss}Loss, {optimizer} lr {LR}, start (w0hat, w1hat) = ({start[0]}, {start[1]}))"
    problem = trajectory_problem(what, expected.what, tol_what,
                                 lambda: epoch_path(cache, release_dir, loss, optimizer, start))
    assert problem is None, (
        msg(ko=f"{setup}의 궤적(trajectory)이 채점기의 재실행(re-run)과 다릅니다: ",
            en=f"the trajectory of {setup} does not follow the grader's re-run: ")
        + problem + msg(ko=". (Q3의 검사도 실패했다면 record부터 고치세요.)",
                        en=". (If Q3's checks fail too, fix record first.)"))
    worst = (loss_values - expected.losses).abs().max().item()
    assert worst <= tol_loss, msg(
        ko=f"{setup}에서 기록한 losses가 채점기의 재실행(re-run)과 최대 {worst:.3g} 다릅니다: 이 run에는 "
           f"torch.nn.{loss}Loss()를 쓰세요",
        en=f"the losses recorded in {setup} differ from the grader's re-run by up to {worst:.3g}: use "
           f"torch.nn.{loss}Loss() for this run")
