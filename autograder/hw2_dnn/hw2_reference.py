"""Reference computations shared by the hw2 checks (test_hw2_*.py) and calibrate.py.

All of this runs in the grader on the network rebuilt from the student's weights, on the published data
(`release_dir`) or the hidden fresh draws of the same generators (`hidden_dir`): nothing the student reports
about a fit is trusted. The checks import it by name (the grader puts this folder on sys.path).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from assignkit.checks import Msg, msg, training_cause


ADAM_LR = 0.001  # Adam's default learning rate, which every question of hw2 prescribes
MEAN_GAP = msg(ko="x 전체에서 |net(x) - underlying|의 평균", en="The mean of |net(x) - underlying| over x")
MAX_GAP = msg(ko="x 전체에서 가장 큰 |net(x) - underlying|", en="The largest |net(x) - underlying| over x")


def read(folder: Path, name: str) -> pd.DataFrame:
    path = Path(folder) / name
    assert path.is_file(), msg(ko=f"채점기의 데이터 파일 {name}이(가) 없습니다 (출제자의 오류이며 학생의 잘못이 아닙니다)",
                               en=f"the grader's data file {name} is missing (an instructor's error, not yours)")
    return pd.read_csv(path)


def column(df: pd.DataFrame, name: str) -> torch.Tensor:
    return torch.tensor(df[name].to_numpy(), dtype=torch.float32).reshape(-1, 1)


def inputs(df: pd.DataFrame) -> torch.Tensor:
    if "x1" in df:
        return torch.tensor(df[["x1", "x2"]].to_numpy(), dtype=torch.float32)
    return column(df, "x")


def predict(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return net(x).double()


def bce(yhat: torch.Tensor, y: torch.Tensor) -> float:
    """torch.nn.BCELoss, in float64 (its log is clamped at -100, as the student's loss is)."""
    return F.binary_cross_entropy(yhat.double().clamp(0, 1), y.double()).item()


def bce_on(net: torch.nn.Module, df: pd.DataFrame) -> float:
    return bce(predict(net, inputs(df)), column(df, "y"))


def mse_on(net: torch.nn.Module, df: pd.DataFrame, target: str = "y") -> float:
    return ((predict(net, inputs(df)) - column(df, target).double()) ** 2).mean().item()


def gaps(net: torch.nn.Module, df: pd.DataFrame, skip: tuple[float, ...] = (), window: float = 0.0):
    """|yhat - underlying| on the x grid of df: (mean over all x, max over x at least `window` from `skip`)."""
    x = column(df, "x")
    gap = (predict(net, x) - column(df, "underlying").double()).abs().flatten()
    away = torch.ones_like(gap, dtype=torch.bool)
    for jump in skip:
        away &= (x.flatten() - jump).abs() >= window
    return gap.mean().item(), gap[away].max().item()


def accuracy_on(net: torch.nn.Module, df: pd.DataFrame) -> float:
    return ((predict(net, inputs(df)) > 0.5).double() == column(df, "y").double()).double().mean().item()


def prob_gap(net: torch.nn.Module, grid: pd.DataFrame) -> float:
    return (predict(net, inputs(grid)) - column(grid, "prob").double()).abs().mean().item()


def best_logistic_bce(df: pd.DataFrame) -> float:
    """The lowest BCE any sigmoid(w0 + w1 x) reaches on df (LBFGS in float64; the problem is convex)."""
    x, y = column(df, "x").double(), column(df, "y").double()
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([w], lr=1, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(w[0] + w[1] * x, y)
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return F.binary_cross_entropy_with_logits(w[0] + w[1] * x, y).item()


def dead_units(net: torch.nn.Sequential, x: torch.Tensor) -> list[int]:
    """Hidden ReLU units that are never active on x (their pre-activation is <= 0 for every row)."""
    with torch.no_grad():
        return [int(i) for i in torch.nonzero((net[0](x) <= 0).all(dim=0)).flatten()]


def straight_units(net: torch.nn.Sequential, x: torch.Tensor) -> list[int]:
    """Hidden ReLU units that are active for every row of x: their kink lies outside the data, so they add no bend."""
    with torch.no_grad():
        return [int(i) for i in torch.nonzero((net[0](x) > 0).all(dim=0)).flatten()]


def dead_note(net: torch.nn.Sequential, x: torch.Tensor, seed_hint: Msg) -> Msg | str:
    """Why a small ReLU net may fail to bend: its units are dead, or never switch off, on the data."""
    dead, straight = dead_units(net, x), straight_units(net, x)
    width = net[0].out_features
    bending = width - len(dead) - len(straight)
    if bending >= max(2, width // 2):  # enough kinks: the units are not what went wrong
        return ""
    parts = []
    if dead:
        parts.append(msg(ko=f"{len(dead)}개는 죽어 있고(dead: 데이터에서 한 번도 활성화되지 않아 모든 x에서 0)",
                         en=f"{len(dead)} {'is' if len(dead) == 1 else 'are'} dead (never active on the data: "
                            "0 for every x)"))
    if straight:
        parts.append(msg(ko=f"{len(straight)}개는 모든 x에서 활성화되어 있어(꺾이는 점이 데이터 밖에 있어 직선뿐)",
                         en=f"{len(straight)} {'is' if len(straight) == 1 else 'are'} active for every x (the kink "
                            "lies outside the data: only a straight line)"))
    return msg(ko=f" 참고: net의 ReLU unit {width}개 중 {', '.join(p.ko for p in parts)}, 꺾을 수 있는 점(kink)이 "
                  f"{bending}개뿐입니다. 이는 시작 가중치(starting weights)에 달려 있습니다: {seed_hint.ko}",
               en=f" Note: of the {width} ReLU units of net, {' and '.join(p.en for p in parts)}, so the net has only "
                  f"{bending} kink(s) to bend with. This depends on the starting weights: {seed_hint.en}")


def seeded_start(net: torch.nn.Module, seed: int) -> torch.nn.Module:
    """The same layers made afresh right after torch.manual_seed(seed), as the question builds them; the grader's
    random state is left as it was."""
    layers = list(net) if isinstance(net, torch.nn.Sequential) else [net]
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        fresh = [torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
                 if isinstance(layer, torch.nn.Linear) else type(layer)() for layer in layers]
    return torch.nn.Sequential(*fresh) if isinstance(net, torch.nn.Sequential) else fresh[0]


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def cause(sub, name: str, net: torch.nn.Module, x: torch.Tensor, seed: int, seed_hint: Msg) -> Msg | None:
    """Why `name` fails its fit checks, when that can be told; it then replaces the generic advice (train
    longer, another seed). From the record of the run: no optimizer on its parameters, no step, no zero_grad,
    the output activation applied twice. From the weights: still the start of the prescribed seed; all ReLU
    units dead, and whether they were made so (weights zeroed) or started dead at the seed."""
    found = training_cause(sub.training(), name)
    if found is not None:
        return " " + found
    start = seeded_start(net, seed)
    if _same_weights(net, start):
        return msg(ko=f" 원인: {name}의 가중치(weights)가 torch.manual_seed({seed}) 직후의 시작값 그대로입니다: 학습으로 "
                      "한 번도 바뀌지 않았습니다. optimizer를 이 net의 parameters로 만들고, 매 epoch step4에서 "
                      "optimizer.step()을 호출하는지 확인하세요.",
                   en=f" Cause: the weights of {name} are exactly those right after torch.manual_seed({seed}): training "
                      "never changed them. Check that the optimizer is made with this net's parameters and that "
                      "optimizer.step() runs in step4 of every epoch.")
    if not isinstance(net, torch.nn.Sequential) or not isinstance(net[0], torch.nn.Linear) or len(net) < 3:
        return None
    width = net[0].out_features
    if len(dead_units(net, x)) < width:
        return None
    if not net[0].weight.any():
        return msg(ko=f" 원인: {name}[0]의 weight가 모두 0이라 ReLU unit {width}개가 모두 처음부터 죽어 있습니다(dead): "
                      "모든 x에서 입력이 같고 0 이하여서 ReLU가 기울기(gradient)를 전혀 돌려보내지 않으므로, 학습해도 "
                      "살아나지 않습니다. 가중치를 0으로 만들지 말고 torch.manual_seed와 Linear가 만든 시작값을 쓰세요.",
                   en=f" Cause: the weights of {name}[0] are all zero, so all {width} ReLU units are dead from the "
                      "start: every x gives them the same input, at most 0, and ReLU passes no gradient back, so "
                      "training can never revive them. Do not set the weights to zero; keep the start that "
                      "torch.manual_seed and Linear make.")
    if torch.equal(net[0].weight, start[0].weight):
        return msg(ko=f" 원인: ReLU unit {width}개가 모두 죽어 있고(dead), {name}[0]이 seed {seed}의 시작값 그대로입니다: "
                      "처음부터 죽어 있던 unit은 기울기(gradient)를 받지 못해 바뀌지 않습니다. ",
                   en=f" Cause: all {width} ReLU units are dead and {name}[0] is still seed {seed}'s start: units dead "
                      "from the start get no gradient and never change. ") + seed_hint
    return msg(ko=f" 원인: ReLU unit {width}개가 모두 죽어 있습니다(dead: 데이터의 모든 x에서 0). {name}[0]이 시작값에서 "
                  "바뀌었으므로 학습 중에 죽었습니다 (또는 다른 seed에서 시작했습니다). ",
               en=f" Cause: all {width} ReLU units are dead (0 for every x of the data). {name}[0] moved from its "
                  "start, so they died during training (or it started from another seed). ") + seed_hint


def draw_fit(feedback, title: Msg, net: torch.nn.Module, grid: pd.DataFrame, data: pd.DataFrame,
             label: Msg | None = None) -> None:
    """The student's curve against `underlying` on the x grid, with the data points, on the feedback page."""
    fitted = predict(net, column(grid, "x"))
    label = label or msg(ko="나의 net(x)", en="your net(x)")
    feedback.curve(title, grid.x, {"underlying": grid.underlying, label: fitted}, scatter=(data.x, data.y))
