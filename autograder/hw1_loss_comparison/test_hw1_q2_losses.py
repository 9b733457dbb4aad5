"""Q2 losses by hand: the student's mse and bce, called in the sandbox on the hidden inputs of loss_inputs.json,
against torch.nn.MSELoss and torch.nn.BCELoss computed here on the same float32 inputs."""

import json

import pytest
import torch

# A call passes when |got - torch's| <= ATOL + RTOL * |torch's|. Measured by calibrate.py on loss_inputs.json
# plus 5 random inputs (n = 1 ... 2000, yhat as close as 1e-4 to 0 and 1), in units of this tolerance. Correct
# (the notebook's mse/bce, sum/n, log1p(-yhat), float64 inside, log(yhat + 1e-8)): <= 0.00093 inside
# [0.01, 0.99], <= 0.082 near 0 and 1 (log(yhat + 1e-8); margin x12). Wrong: near 0 and 1, log(yhat + 1e-4)
# misses by 570 (x570), clipping yhat to [1e-3, 1 - 1e-3] by 1900; everywhere, a missing (1-y)log(1-yhat) term
# by >= 6600, a flipped sign by 2e4, sum instead of mean by >= 4.9e5; for mse, abs instead of square by 9500.
ATOL = 1e-6
RTOL = 1e-4
EDGE = 0.01  # inputs with some yhat below EDGE or above 1 - EDGE are the "near 0 and 1" ones


def has_edges(yhat: torch.Tensor) -> bool:
    return bool(((yhat < EDGE) | (yhat > 1 - EDGE)).any())


def _inputs(hidden_dir):
    calls = json.loads((hidden_dir / "loss_inputs.json").read_text())
    return [[torch.tensor(argument, dtype=torch.float32) for argument in call] for call in calls]


def _number(output):
    if isinstance(output, torch.Tensor) and output.numel() == 1:
        return output.item()
    if type(output) in (int, float):
        return float(output)
    return None


def _compare(sub, hidden_dir, name, torch_loss, edges, hint):
    calls = sub.calls(name)
    inputs = _inputs(hidden_dir)
    assert len(calls) == len(inputs), f"{name} was called {len(calls)} times; expected {len(inputs)}"
    tested = 0
    for call, (yhat, y) in zip(calls, inputs):
        if has_edges(yhat) != edges:
            continue
        tested += 1
        n = len(yhat)
        assert call.error is None, f"{name}(yhat, y) raised an error on a hidden input of {n} points: {call.error}"
        got = _number(call.output)
        assert got is not None, (
            f"{name}(yhat, y) should return one number (a tensor with one element); it returned {call.output!r:.80}")
        want = torch_loss(yhat, y).item()
        assert abs(got - want) <= ATOL + RTOL * abs(want), (
            f"on a hidden input of {n} points {name}(yhat, y) = {got:.6g}; {hint(got, want, n)}")
    assert tested, "no hidden inputs of this kind (the hidden inputs file is incomplete)"


def _mse_hint(got, want, n):
    text = f"torch.nn.MSELoss gives {want:.6g}."
    if n > 1 and abs(got - n * want) <= 1e-4 * abs(n * want):
        text += " Yours is n times larger: take the mean of the squared errors, not their sum."
    return text + " MSE is the mean of (y - yhat) ** 2"


def _bce_hint(got, want, n):
    text = f"torch.nn.BCELoss gives {want:.6g}."
    if abs(got + want) <= 1e-4 * abs(want):
        text += " Yours has the opposite sign: BCE is minus the mean."
    elif n > 1 and abs(got - n * want) <= 1e-4 * abs(n * want):
        text += " Yours is n times larger: take the mean, not the sum."
    return text + " BCE is -mean(y * log(yhat) + (1 - y) * log(1 - yhat)), both terms"


@pytest.mark.check("q2_losses", points=2)
def test_mse_matches_MSELoss(sub, hidden_dir):
    _compare(sub, hidden_dir, "mse", torch.nn.MSELoss(), edges=False, hint=_mse_hint)
    _compare(sub, hidden_dir, "mse", torch.nn.MSELoss(), edges=True, hint=_mse_hint)


@pytest.mark.check("q2_losses", points=2)
def test_bce_matches_BCELoss(sub, hidden_dir):
    _compare(sub, hidden_dir, "bce", torch.nn.BCELoss(), edges=False, hint=_bce_hint)


@pytest.mark.check("q2_losses", points=1)
def test_bce_matches_BCELoss_near_0_and_1(sub, hidden_dir):
    _compare(sub, hidden_dir, "bce", torch.nn.BCELoss(), edges=True,
             hint=lambda got, want, n: _bce_hint(got, want, n) + "; some yhat here are as close as 1e-4 to 0 or 1: "
                                        "compute log(yhat) and log(1 - yhat) as they are, without adding or clipping")
