"""Q2 losses by hand: the student's mse and bce, called in the sandbox on the hidden inputs of loss_inputs.json,
against torch.nn.MSELoss and torch.nn.BCELoss computed here on the same float32 inputs."""

import json

import pytest
import torch

from assignkit.checks import msg

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
    assert len(calls) == len(inputs), msg(ko=f"{name}이(가) {len(calls)}번 호출되었습니다. {len(inputs)}번이어야 합니다",
                                          en=f"{name} was called {len(calls)} times; expected {len(inputs)}")
    tested = 0
    for call, (yhat, y) in zip(calls, inputs):
        if has_edges(yhat) != edges:
            continue
        tested += 1
        n = len(yhat)
        assert call.error is None, msg(ko=f"{name}(yhat, y)이(가) 점 {n}개짜리 숨은 입력에서 오류를 냈습니다: ",
                                       en=f"{name}(yhat, y) raised an error on a hidden input of {n} points: ") + \
            call.error
        got = _number(call.output)
        assert got is not None, msg(
            ko=f"{name}(yhat, y)은(는) 숫자 하나(원소가 하나인 tensor)를 돌려주어야 합니다. {call.output!r:.80}을(를) "
               "돌려주었습니다",
            en=f"{name}(yhat, y) should return one number (a tensor with one element); it returned {call.output!r:.80}")
        want = torch_loss(yhat, y).item()
        assert abs(got - want) <= ATOL + RTOL * abs(want), msg(
            ko=f"점 {n}개짜리 숨은 입력에서 {name}(yhat, y) = {got:.6g}입니다. ",
            en=f"on a hidden input of {n} points {name}(yhat, y) = {got:.6g}; ") + hint(got, want, n)
    assert tested, msg(ko="이런 종류의 숨은 입력이 없습니다 (숨은 입력 파일이 불완전합니다)",
                       en="no hidden inputs of this kind (the hidden inputs file is incomplete)")


def _mse_hint(got, want, n):
    text = msg(ko=f"torch.nn.MSELoss는 {want:.6g}입니다.", en=f"torch.nn.MSELoss gives {want:.6g}.")
    if n > 1 and abs(got - n * want) <= 1e-4 * abs(n * want):
        text += msg(ko=" 값이 n배 큽니다: 제곱 오차의 합(sum)이 아니라 평균(mean)을 구하세요.",
                    en=" Yours is n times larger: take the mean of the squared errors, not their sum.")
    return text + msg(ko=" MSE는 (y - yhat) ** 2의 평균입니다", en=" MSE is the mean of (y - yhat) ** 2")


def _bce_hint(got, want, n):
    text = msg(ko=f"torch.nn.BCELoss는 {want:.6g}입니다.", en=f"torch.nn.BCELoss gives {want:.6g}.")
    if abs(got + want) <= 1e-4 * abs(want):
        text += msg(ko=" 부호가 반대입니다: BCE는 평균에 마이너스를 붙인 값입니다.",
                    en=" Yours has the opposite sign: BCE is minus the mean.")
    elif n > 1 and abs(got - n * want) <= 1e-4 * abs(n * want):
        text += msg(ko=" 값이 n배 큽니다: 합(sum)이 아니라 평균(mean)을 구하세요.",
                    en=" Yours is n times larger: take the mean, not the sum.")
    return text + msg(ko=" BCE는 -mean(y * log(yhat) + (1 - y) * log(1 - yhat))이며, 두 항이 모두 필요합니다",
                      en=" BCE is -mean(y * log(yhat) + (1 - y) * log(1 - yhat)), both terms")


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
             hint=lambda got, want, n: _bce_hint(got, want, n) + msg(
                 ko="; 여기의 yhat 중에는 0이나 1에 1e-4까지 가까운 것이 있습니다: log(yhat)와 log(1 - yhat)를 "
                    "더하거나 자르지(clipping) 말고 그대로 계산하세요",
                 en="; some yhat here are as close as 1e-4 to 0 or 1: compute log(yhat) and log(1 - yhat) as they "
                    "are, without adding or clipping"))
