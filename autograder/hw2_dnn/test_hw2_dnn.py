"""Hidden checks of hw2_dnn (LECTURE.md Part B). The contract is docs/checks.md.

Every number a check compares is recomputed here from the network rebuilt from the student's weights, on the
published data (`release_dir`) or on the hidden fresh draws of the same generators (`hidden_dir`). Nothing the
student reports about a fit is trusted. Every threshold is a module constant whose comment gives what the
reference solution reaches and the margin; `calibrate.py` beside this file measures them (under 25 seeds of
the hidden draws) and writes MARGINS.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------- thresholds (measured: MARGINS.md)
# "reference" = the source notebook's fit; "worst" = its worst value over 25 hidden draws (the shipped one and
# 24 more seeds); "margin" = threshold - worst. Checks on the published data or a fixed grid have one value.

# q1: BCE of the logistic fit on dnnex0 minus the best BCE any sigmoid(w0 + w1 x) reaches there (LBFGS, below).
# Reference (6000 epochs) +0.0000 (converged), margin 0.002; 3000 epochs +0.013, 1000 +0.129, 100 +0.385 fail.
Q1_BCE_EXCESS_MAX = 0.002

# q3 (1-2-1 net on dnnex0, 3000 + 3000 epochs). Best possible BCE (the true underlying) is 0.269.
Q3_BCE_DATA_MAX = 0.30  # reference 0.2798, margin 0.020; 3000 epochs only 0.3245 fails
Q3_MEAN_GAP_MAX = 0.03  # reference 0.0117, margin 0.018; 3000 epochs only 0.085 fails
Q3_MAX_GAP_MAX = 0.15  # reference 0.0565, margin 0.094; 3000 epochs only 0.305, dead-ReLU seeds >= 0.37 fail
Q3_BCE_HIDDEN_MAX = 0.32  # reference 0.2683 (worst 0.2875), margin 0.032; 100 epochs 0.62 fails

# q4 (1-16-1 net on dnnex1, 6000 epochs). The jumps of `underlying` at x = -0.2 and x = 0.6 cannot be followed
# by a piecewise-linear u, so the max gap is taken away from them (|x - jump| >= Q4_JUMP_WINDOW).
Q4_JUMP_WINDOW = 0.1
Q4_BCE_DATA_MAX = 0.16  # reference 0.1423, margin 0.018; 1000 epochs 0.40 fails
Q4_MEAN_GAP_MAX = 0.06  # reference 0.0426, margin 0.017; 1000 epochs 0.24 fails
Q4_MAX_GAP_MAX = 0.15  # reference 0.0901, margin 0.060; 1000 epochs 0.65 fails
Q4_BCE_HIDDEN_MAX = 0.18  # reference 0.1392 (worst 0.1575), margin 0.022; 1000 epochs 0.39 fails

# q5 (1-32-1 regression on dnnex2, 6000 epochs, seed 5). The stuck seed-43052 fit must fail both.
Q5_MSE_UNDERLYING_MAX = 0.10  # reference 0.0237, margin 0.076; stuck fit 0.40 fails
Q5_MSE_HIDDEN_MAX = 0.36  # reference 0.2628 (worst 0.2921), margin 0.068; stuck fit (best draw) 0.614 fails

# q6 (2-32-1 net on dnnex3, 3000 epochs). Best possible BCE (the true probability) is about 0.50.
Q6_ACCURACY_HIDDEN_MIN = 0.67  # reference 0.7185 (worst 0.6965), margin 0.027
Q6_BCE_HIDDEN_MAX = 0.60  # reference 0.5388 (worst 0.5636), margin 0.036; 100 epochs 0.64 fails
Q6_PROB_GAP_MAX = 0.14  # reference 0.0860, margin 0.054; x2 ignored 0.297, 300 epochs 0.230 fail

# ---------------------------------------------------------------- answers of the choice questions
Q1_MORE_EPOCHS = "C"  # no: sigmoid(w0 + w1 x) is monotone in x
Q5_WHY = "B"  # a poor local minimum reached from a bad start

# ---------------------------------------------------------------- the target of q2
Q2_GRID = torch.cat([torch.linspace(-2.0, 2.0, 801), torch.tensor([-1e-3, -3e-4, 3e-4, 1e-3, 0.123, -0.777])])
Q2_CHAIN_N = 37  # the hidden batch size of the shape chain
Q2_U_TOLERANCE = 1e-4  # |u - target| <= tol * max(1, |target|): float32 rounding only


def q2_target(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x < 0, 9 * x + 4.5, -4.5 * x + 4.5)


# ---------------------------------------------------------------- helpers (also used by calibrate.py)

def read(folder: Path, name: str) -> pd.DataFrame:
    path = Path(folder) / name
    assert path.is_file(), f"the grader's data file {name} is missing (an instructor's error, not yours)"
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


def layer_text(layer: torch.nn.Module) -> str:
    if isinstance(layer, torch.nn.Linear):
        return f"Linear({layer.in_features}, {layer.out_features})"
    return type(layer).__name__


def net_text(net: torch.nn.Module) -> str:
    layers = list(net) if isinstance(net, torch.nn.Sequential) else [net]
    return "Sequential(" + ", ".join(layer_text(layer) for layer in layers) + ")"


def expect_net(sub, name: str, expected: str) -> torch.nn.Module:
    """The rebuilt network, after checking it is exactly the architecture the question asks for."""
    net = sub.module(name)
    assert isinstance(net, torch.nn.Sequential) and net_text(net) == expected, (
        f"{name} should be torch.nn.{expected}; yours is {sub.describe(name)}. "
        "Build it exactly as the question says (layers, sizes, and the output activation).")
    return net


def dead_units(net: torch.nn.Sequential, x: torch.Tensor) -> list[int]:
    """Hidden ReLU units that are never active on x (their pre-activation is <= 0 for every row)."""
    with torch.no_grad():
        return [int(i) for i in torch.nonzero((net[0](x) <= 0).all(dim=0)).flatten()]


def straight_units(net: torch.nn.Sequential, x: torch.Tensor) -> list[int]:
    """Hidden ReLU units that are active for every row of x: their kink lies outside the data, so they add no bend."""
    with torch.no_grad():
        return [int(i) for i in torch.nonzero((net[0](x) > 0).all(dim=0)).flatten()]


def dead_note(net: torch.nn.Sequential, x: torch.Tensor, seed_hint: str) -> str:
    """Why a small ReLU net may fail to bend: its units are dead, or never switch off, on the data."""
    dead, straight = dead_units(net, x), straight_units(net, x)
    width = net[0].out_features
    bending = width - len(dead) - len(straight)
    if bending >= max(2, width // 2):  # enough kinks: the units are not what went wrong
        return ""
    parts = []
    if dead:
        parts.append(f"{len(dead)} {'is' if len(dead) == 1 else 'are'} dead (never active on the data: "
                     "0 for every x)")
    if straight:
        parts.append(f"{len(straight)} {'is' if len(straight) == 1 else 'are'} active for every x (the kink lies "
                     "outside the data: only a straight line)")
    return (f" Note: of the {width} ReLU units of net, {' and '.join(parts)}, so the net has only {bending} "
            f"kink(s) to bend with. This depends on the starting weights: {seed_hint}")


def draw_fit(feedback, title: str, net: torch.nn.Module, grid: pd.DataFrame, data: pd.DataFrame,
             label: str = "your net(x)") -> None:
    """The student's curve against `underlying` on the x grid, with the data points, on the feedback page."""
    fitted = predict(net, column(grid, "x"))
    feedback.curve(title, grid.x, {"underlying": grid.underlying, label: fitted}, scatter=(data.x, data.y))


def threshold_message(what: str, value: float, bound: float, below: bool = True) -> str:
    relation = "at most" if below else "at least"
    return f"{what} is {value:.4f}; a good fit reaches {relation} {bound:.4f}."


# ---------------------------------------------------------------- q1: the limit of logistic regression

Q1_NET = "Sequential(Linear(1, 1), Sigmoid)"


@pytest.mark.check("q1_limit", points=1)
def test_q1_net_is_logistic(sub):
    expect_net(sub, "net", Q1_NET)


@pytest.mark.check("q1_limit", points=2)
def test_q1_fit_is_the_best_logistic_curve(sub, release_dir, feedback):
    net = expect_net(sub, "net", Q1_NET)
    df = read(release_dir, "dnnex0.csv")
    draw_fit(feedback, "q1: your logistic fit vs underlying", net, df, df)
    yours, best = bce_on(net, df), best_logistic_bce(df)
    assert yours <= best + Q1_BCE_EXCESS_MAX, (
        f"The BCE of your logistic fit on dnnex0 is {yours:.4f}, but the best any sigmoid(w0 + w1·x) can reach is "
        f"{best:.4f}: your training has not converged. Train 6000 epochs with Adam (default learning rate) "
        "from torch.manual_seed(43052).")


@pytest.mark.check("q1_limit", points=2)
def test_q1_more_epochs_answer(sub):
    answer = sub.text("q1_more_epochs").strip().upper()
    assert answer in ("A", "B", "C", "D"), f'q1_more_epochs should be "A", "B", "C" or "D"; it is {answer!r}'
    assert answer == Q1_MORE_EPOCHS, (
        f'q1_more_epochs = "{answer}" is not right. Think about which shapes sigmoid(w0 + w1·x) can take as x grows, '
        "whatever w0 and w1 are.")


# ---------------------------------------------------------------- q2: the kinked u by hand

def _q2_layers(sub):
    l1, l2 = sub.module("l1"), sub.module("l2")
    for name, layer in (("l1", l1), ("l2", l2)):
        assert isinstance(layer, torch.nn.Linear), f"{name} should be a torch.nn.Linear; yours is {sub.describe(name)}"
    return l1, l2


def _q2_u(l1, l2, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return l2(torch.relu(l1(x)))


@pytest.mark.check("q2_kink_by_hand", points=1)
def test_q2_layer_shapes(sub):
    l1, l2 = _q2_layers(sub)
    shapes = {"l1.weight": (tuple(l1.weight.shape), (2, 1)), "l2.weight": (tuple(l2.weight.shape), (1, 2)),
              "l1.bias": (tuple(l1.bias.shape) if l1.bias is not None else None, (2,)),
              "l2.bias": (tuple(l2.bias.shape) if l2.bias is not None else None, (1,))}
    wrong = [f"{name} has shape {got}; expected {want}" for name, (got, want) in shapes.items() if got != want]
    assert not wrong, "; ".join(wrong) + ". l1 takes 1 input to 2 hidden units, l2 takes those 2 to 1 output."


@pytest.mark.check("q2_kink_by_hand", points=2)
def test_q2_u_is_the_kinked_line(sub, feedback):
    l1, l2 = _q2_layers(sub)
    x = Q2_GRID.reshape(-1, 1)
    try:
        u = _q2_u(l1, l2, x)
    except RuntimeError:
        raise AssertionError("u = l2(relu(l1(x))) cannot be computed for x of shape (n, 1) with your l1 and l2: "
                             "check their shapes (l1: Linear(1, 2), l2: Linear(2, 1)).") from None
    target = q2_target(x)
    order = torch.argsort(x.flatten())
    feedback.curve("q2: your u = l2(relu(l1(x))) vs the kinked line", x.flatten()[order],
                   {"target u": target.flatten()[order], "your u": u.flatten()[order]})
    assert u.shape == target.shape, f"u has shape {tuple(u.shape)} for x of shape {tuple(x.shape)}; expected (n, 1)"
    bad = (u - target).abs() > Q2_U_TOLERANCE * target.abs().clamp(min=1)
    if bad.any():
        samples = torch.tensor([[-0.5], [0.5]])
        shown = ", ".join(f"at x = {v:g} yours is {mine:.3f}, expected {want:.3f}" for v, mine, want in
                          zip(samples.flatten().tolist(), _q2_u(l1, l2, samples).flatten().tolist(),
                              q2_target(samples).flatten().tolist()))
        raise AssertionError(f"u = l2(relu(l1(x))) is not 9x+4.5 (x<0) / -4.5x+4.5 (x>0) at {int(bad.sum())} of "
                             f"{bad.numel()} test points: {shown}.")


@pytest.mark.check("q2_kink_by_hand", points=1)
def test_q2_shape_chain(sub):
    l1, l2 = _q2_layers(sub)
    x = torch.linspace(-1, 1, Q2_CHAIN_N).reshape(-1, 1)
    chain = [("x", tuple(x.shape), (Q2_CHAIN_N, 1))]
    try:
        with torch.no_grad():
            h = l1(x)
            chain.append(("l1(x)", tuple(h.shape), (Q2_CHAIN_N, 2)))
            h = torch.relu(h)
            chain.append(("a1(l1(x))", tuple(h.shape), (Q2_CHAIN_N, 2)))
            u = l2(h)
            chain.append(("l2(a1(l1(x)))", tuple(u.shape), (Q2_CHAIN_N, 1)))
    except RuntimeError:
        raise AssertionError(f"for x of shape ({Q2_CHAIN_N}, 1) the chain l1 → a1 → l2 fails after "
                             f"{chain[-1][0]}: the shapes of l1 and l2 do not fit (n,1) → (n,2) → (n,1).") from None
    wrong = [f"{name} has shape {got}; expected {want}" for name, got, want in chain if got != want]
    assert not wrong, "; ".join(wrong)


@pytest.mark.check("q2_kink_by_hand", points=1)
def test_q2_yhat_is_sigmoid_of_u(sub, release_dir):
    l1, l2 = _q2_layers(sub)
    x = column(read(release_dir, "dnnex0.csv"), "x")
    yhat = sub.tensor("yhat", shape=(len(x), 1)).double()
    try:
        expected = torch.sigmoid(_q2_u(l1, l2, x)).double()
    except RuntimeError:
        raise AssertionError("yhat cannot be recomputed: l1 and l2 do not fit (n,1) → (n,2) → (n,1).") from None
    gap = (yhat - expected).abs().max().item()
    assert gap <= 1e-5, (f"yhat is not a2(u) = sigmoid(l2(a1(l1(x)))) computed from your own l1 and l2 on the dnnex0 x "
                         f"(they differ by up to {gap:.3g}). Compute u = l2(a1(l1(x))), then yhat = a2(u).")


# ---------------------------------------------------------------- q3: learning the kink

Q3_NET = "Sequential(Linear(1, 2), ReLU, Linear(2, 1), Sigmoid)"
Q3_SEED_HINT = ("seed 43052 with 3000 + 3000 epochs gives two units that bend on this data; check that "
                "torch.manual_seed(43052) comes right before the net is made, or train again from another seed.")


def _q3(sub, release_dir):
    net = expect_net(sub, "net", Q3_NET)
    df = read(release_dir, "dnnex0.csv")
    return net, df, dead_note(net, column(df, "x"), Q3_SEED_HINT)


@pytest.mark.check("q3_learn_kink", points=1)
def test_q3_architecture(sub):
    expect_net(sub, "net", Q3_NET)


@pytest.mark.check("q3_learn_kink", points=1)
def test_q3_bce_on_data(sub, release_dir):
    net, df, note = _q3(sub, release_dir)
    value = bce_on(net, df)
    assert value <= Q3_BCE_DATA_MAX, threshold_message("The BCE of net on dnnex0", value, Q3_BCE_DATA_MAX) + (
        " Train 3000 + 3000 epochs with Adam." + note)


@pytest.mark.check("q3_learn_kink", points=1)
def test_q3_mean_gap_to_underlying(sub, release_dir, hidden_dir, feedback):
    net, df, note = _q3(sub, release_dir)
    grid = read(hidden_dir, "dnnex0_hidden.csv")
    draw_fit(feedback, "q3: your 1-2-1 net vs underlying", net, grid, df)
    mean, _ = gaps(net, grid)
    assert mean <= Q3_MEAN_GAP_MAX, threshold_message("The mean of |net(x) - underlying| over x", mean,
                                                      Q3_MEAN_GAP_MAX) + note


@pytest.mark.check("q3_learn_kink", points=1)
def test_q3_max_gap_to_underlying(sub, release_dir, hidden_dir):
    net, df, note = _q3(sub, release_dir)
    _, worst = gaps(net, read(hidden_dir, "dnnex0_hidden.csv"))
    assert worst <= Q3_MAX_GAP_MAX, threshold_message("The largest |net(x) - underlying| over x", worst,
                                                      Q3_MAX_GAP_MAX) + note


@pytest.mark.check("q3_learn_kink", points=2)
def test_q3_bce_on_fresh_draw(sub, release_dir, hidden_dir):
    net, df, note = _q3(sub, release_dir)
    value = bce_on(net, read(hidden_dir, "dnnex0_hidden.csv"))
    assert value <= Q3_BCE_HIDDEN_MAX, threshold_message(
        "The BCE of net on a fresh draw of dnnex0 (new y, same underlying)", value, Q3_BCE_HIDDEN_MAX) + note


# ---------------------------------------------------------------- q4: example 1

Q4_NET = "Sequential(Linear(1, 16), ReLU, Linear(16, 1), Sigmoid)"
Q4_JUMPS = (-0.2, 0.6)
Q4_SEED_HINT = "train from torch.manual_seed(43052) as asked, or from another seed."


def _q4(sub, release_dir):
    net = expect_net(sub, "net", Q4_NET)
    df = read(release_dir, "dnnex1.csv")
    return net, df, dead_note(net, column(df, "x"), Q4_SEED_HINT)


@pytest.mark.check("q4_example1", points=1)
def test_q4_architecture(sub):
    expect_net(sub, "net", Q4_NET)


@pytest.mark.check("q4_example1", points=1)
def test_q4_bce_on_data(sub, release_dir):
    net, df, note = _q4(sub, release_dir)
    value = bce_on(net, df)
    assert value <= Q4_BCE_DATA_MAX, threshold_message("The BCE of net on dnnex1", value, Q4_BCE_DATA_MAX) + (
        " Train 6000 epochs with Adam." + note)


@pytest.mark.check("q4_example1", points=1)
def test_q4_mean_gap_to_underlying(sub, release_dir, hidden_dir, feedback):
    net, df, note = _q4(sub, release_dir)
    grid = read(hidden_dir, "dnnex1_hidden.csv")
    draw_fit(feedback, "q4: your 1-16-1 net vs underlying", net, grid, df)
    mean, _ = gaps(net, grid, Q4_JUMPS, Q4_JUMP_WINDOW)
    assert mean <= Q4_MEAN_GAP_MAX, threshold_message("The mean of |net(x) - underlying| over x", mean,
                                                      Q4_MEAN_GAP_MAX) + note


@pytest.mark.check("q4_example1", points=1)
def test_q4_max_gap_away_from_the_jumps(sub, release_dir, hidden_dir):
    net, df, note = _q4(sub, release_dir)
    _, worst = gaps(net, read(hidden_dir, "dnnex1_hidden.csv"), Q4_JUMPS, Q4_JUMP_WINDOW)
    assert worst <= Q4_MAX_GAP_MAX, threshold_message(
        f"Away from the jumps at x = -0.2 and 0.6 (|x - jump| >= {Q4_JUMP_WINDOW}), the largest |net(x) - underlying|",
        worst, Q4_MAX_GAP_MAX) + note


@pytest.mark.check("q4_example1", points=1)
def test_q4_bce_on_fresh_draw(sub, release_dir, hidden_dir):
    net, df, note = _q4(sub, release_dir)
    value = bce_on(net, read(hidden_dir, "dnnex1_hidden.csv"))
    assert value <= Q4_BCE_HIDDEN_MAX, threshold_message(
        "The BCE of net on a fresh draw of dnnex1 (new y, same underlying)", value, Q4_BCE_HIDDEN_MAX) + note


# ---------------------------------------------------------------- q5: example 2, regression

Q5_NET = "Sequential(Linear(1, 32), ReLU, Linear(32, 1))"
Q5_STUCK_MSE = 1.5  # above this (vs underlying) the fit is not stuck near the curve: it never got there


def q5_hint(net: torch.nn.Module, grid: pd.DataFrame) -> str:
    if mse_on(net, grid, target="underlying") <= Q5_STUCK_MSE:
        return (" This is what a fit stuck in a poor local minimum looks like (the seed-43052 run of (a)): train net "
                "again from another starting point, e.g. torch.manual_seed(5) as in the lecture.")
    return (" net is far from the data: check that it is trained with MSELoss for 6000 epochs. From some starting "
            "points Adam does not get there within 6000 epochs either: try another seed, e.g. torch.manual_seed(5) "
            "as in the lecture.")


@pytest.mark.check("q5_example2", points=1)
def test_q5_first_net_architecture(sub, release_dir, feedback):
    first = expect_net(sub, "net_first", Q5_NET)
    df = read(release_dir, "dnnex2.csv")
    draw_fit(feedback, "q5 (a): your first fit (net_first) vs underlying", first, df, df, "your net_first(x)")


@pytest.mark.check("q5_example2", points=1)
def test_q5_architecture(sub):
    expect_net(sub, "net", Q5_NET)


@pytest.mark.check("q5_example2", points=2)
def test_q5_follows_underlying(sub, release_dir, hidden_dir, feedback):
    net = expect_net(sub, "net", Q5_NET)
    df = read(release_dir, "dnnex2.csv")
    grid = read(hidden_dir, "dnnex2_hidden.csv")
    draw_fit(feedback, "q5 (b): your second fit (net) vs underlying", net, grid, df)
    value = mse_on(net, grid, target="underlying")
    assert value <= Q5_MSE_UNDERLYING_MAX, threshold_message(
        "The mean of (net(x) - underlying)² over x", value, Q5_MSE_UNDERLYING_MAX) + q5_hint(net, grid)


@pytest.mark.check("q5_example2", points=1)
def test_q5_mse_on_fresh_draw(sub, hidden_dir):
    net = expect_net(sub, "net", Q5_NET)
    draw = read(hidden_dir, "dnnex2_hidden.csv")
    value = mse_on(net, draw)
    what = "The MSE of net on a fresh draw of dnnex2 (new noise, same underlying)"
    assert value <= Q5_MSE_HIDDEN_MAX, threshold_message(what, value, Q5_MSE_HIDDEN_MAX) + q5_hint(net, draw)


@pytest.mark.check("q5_example2", points=2)
def test_q5_why_answer(sub):
    answer = sub.text("q5_why").strip().upper()
    assert answer in ("A", "B", "C", "D"), f'q5_why should be "A", "B", "C" or "D"; it is {answer!r}'
    assert answer == Q5_WHY, (
        f'q5_why = "{answer}" is not right. Compare the two runs of (a) and (b): the data, the loss, the network and '
        "the number of epochs were the same. What was different?")


# ---------------------------------------------------------------- q6: example 3, two inputs

Q6_NET = "Sequential(Linear(2, 32), ReLU, Linear(32, 1), Sigmoid)"
Q6_HINT = " Use both inputs x1 and x2 (X of shape (2000, 2)) and train 3000 epochs with BCELoss and Adam."


@pytest.mark.check("q6_example3", points=1)
def test_q6_architecture(sub):
    expect_net(sub, "net", Q6_NET)


@pytest.mark.check("q6_example3", points=2)
def test_q6_accuracy_on_fresh_draw(sub, hidden_dir):
    net = expect_net(sub, "net", Q6_NET)
    value = accuracy_on(net, read(hidden_dir, "dnnex3_hidden.csv"))
    what = "The accuracy (yhat > 0.5) of net on a fresh draw of dnnex3"
    assert value >= Q6_ACCURACY_HIDDEN_MIN, threshold_message(what, value, Q6_ACCURACY_HIDDEN_MIN, below=False) + Q6_HINT


@pytest.mark.check("q6_example3", points=1)
def test_q6_bce_on_fresh_draw(sub, hidden_dir):
    net = expect_net(sub, "net", Q6_NET)
    value = bce_on(net, read(hidden_dir, "dnnex3_hidden.csv"))
    assert value <= Q6_BCE_HIDDEN_MAX, threshold_message(
        "The BCE of net on a fresh draw of dnnex3", value, Q6_BCE_HIDDEN_MAX) + Q6_HINT


@pytest.mark.check("q6_example3", points=2)
def test_q6_probability_map(sub, hidden_dir, feedback):
    net = expect_net(sub, "net", Q6_NET)
    grid = read(hidden_dir, "dnnex3_grid.csv")
    x1, x2 = np.unique(grid.x1), np.unique(grid.x2)
    yours = predict(net, inputs(grid)).reshape(len(x2), len(x1))
    feedback.heatmap("q6: your decision map (net's probability of y = 1)", x1, x2, yours)
    feedback.heatmap("q6: the true probability of y = 1", x1, x2, grid.prob.to_numpy().reshape(len(x2), len(x1)))
    value = prob_gap(net, grid)
    assert value <= Q6_PROB_GAP_MAX, threshold_message(
        "The mean of |net(x1, x2) - true probability| over a grid of the plane", value, Q6_PROB_GAP_MAX) + Q6_HINT
