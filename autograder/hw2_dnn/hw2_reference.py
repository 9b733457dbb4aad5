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

from assignkit.checks import Msg, msg


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


def draw_fit(feedback, title: Msg, net: torch.nn.Module, grid: pd.DataFrame, data: pd.DataFrame,
             label: Msg | str = "your net(x)") -> None:
    """The student's curve against `underlying` on the x grid, with the data points, on the feedback page."""
    fitted = predict(net, column(grid, "x"))
    feedback.curve(title, grid.x, {"underlying": grid.underlying, label: fitted}, scatter=(data.x, data.y))
