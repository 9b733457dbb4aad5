"""Hidden checks of hw2_dnn q5: example 2, regression (LECTURE.md Part B).

Every number is recomputed from the network rebuilt from the student's weights (hw2_reference.py). Each
threshold is a module constant whose comment gives what the reference solution reaches and the margin;
calibrate.py beside this file measures them under 25 hidden draws and writes MARGINS.md. "reference" = the
source notebook's fit; "worst" = its worst value over the 25 draws; "margin" = threshold - worst.
"""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from assignkit.checks import Msg, expect_architecture, expect_at_most, expect_choice, expect_trained_as, msg

import hw2_reference as R  # beside this file: the grader puts this folder on sys.path

# q5 (1-32-1 regression on dnnex2, 6000 epochs, seed 5). The stuck seed-43052 fit must fail both.
Q5_MSE_UNDERLYING_MAX = 0.10  # reference 0.0237, margin 0.076; stuck fit 0.40 fails
Q5_MSE_HIDDEN_MAX = 0.36  # reference 0.2628 (worst 0.2921), margin 0.068; stuck fit (best draw) 0.614 fails
Q5_WHY = "B"  # a poor local minimum reached from a bad start


Q5_NET = "Sequential(Linear(1, 32), ReLU(), Linear(32, 1))"
Q5_STUCK_MSE = 1.5  # above this (vs underlying) the fit is not stuck near the curve: it never got there


def q5_hint(sub, net: torch.nn.Module, grid: pd.DataFrame) -> Msg:
    cause = R.cause(sub, "net", net, R.column(grid, "x"), 5, msg(ko="", en=""))
    if cause:
        return cause
    if R.mse_on(net, grid, target="underlying") <= Q5_STUCK_MSE:
        return msg(ko=" 나쁜 국소 최소점(local minimum)에 갇힌 적합의 모습입니다 ((a)의 seed-43052 run): 강의처럼 "
                      "torch.manual_seed(5) 등 다른 시작점에서 net을 다시 학습하세요.",
                   en=" This is what a fit stuck in a poor local minimum looks like (the seed-43052 run of (a)): train "
                      "net again from another starting point, e.g. torch.manual_seed(5) as in the lecture.")
    return msg(ko=" net이 데이터와 멀리 떨어져 있습니다: MSELoss로 6000 epochs 학습했는지 확인하세요. 어떤 시작점에서는 "
                  "Adam도 6000 epochs 안에 도달하지 못합니다: 강의처럼 torch.manual_seed(5) 등 다른 seed를 써 보세요.",
               en=" net is far from the data: check that it is trained with MSELoss for 6000 epochs. From some "
                  "starting points Adam does not get there within 6000 epochs either: try another seed, e.g. "
                  "torch.manual_seed(5) as in the lecture.")


@pytest.mark.check("q5_example2", points=1)
def test_q5_first_net_as_prescribed(sub, release_dir, feedback):
    first = expect_architecture(sub, "net_first", Q5_NET)
    df = R.read(release_dir, "dnnex2.csv")
    R.draw_fit(feedback, msg(ko="q5 (a): 나의 첫 적합(net_first)과 underlying",
                                                en="q5 (a): your first fit (net_first) vs underlying"), first, df, df, "your net_first(x)")
    expect_trained_as(sub, "net_first", loss="MSELoss", optimizer="Adam", epochs=6000, lr=R.ADAM_LR)


@pytest.mark.check("q5_example2", points=1)
def test_q5_net_as_prescribed(sub):
    expect_architecture(sub, "net", Q5_NET)
    expect_trained_as(sub, "net", loss="MSELoss", optimizer="Adam", epochs=6000, lr=R.ADAM_LR)


@pytest.mark.check("q5_example2", points=2)
def test_q5_follows_underlying(sub, release_dir, hidden_dir, feedback):
    net = expect_architecture(sub, "net", Q5_NET)
    df = R.read(release_dir, "dnnex2.csv")
    grid = R.read(hidden_dir, "dnnex2_hidden.csv")
    R.draw_fit(feedback, msg(ko="q5 (b): 나의 두 번째 적합(net)과 underlying", en="q5 (b): your second fit (net) vs underlying"), net, grid, df)
    value = R.mse_on(net, grid, target="underlying")
    expect_at_most(msg(ko="x 전체에서 (net(x) - underlying)²의 평균", en="The mean of (net(x) - underlying)² over x"),
                   value, Q5_MSE_UNDERLYING_MAX, q5_hint(sub, net, grid))


@pytest.mark.check("q5_example2", points=1)
def test_q5_mse_on_fresh_draw(sub, hidden_dir):
    net = expect_architecture(sub, "net", Q5_NET)
    draw = R.read(hidden_dir, "dnnex2_hidden.csv")
    value = R.mse_on(net, draw)
    what = msg(ko="새로 뽑은 dnnex2 (새 noise, 같은 underlying)에서 net의 MSE",
               en="The MSE of net on a fresh draw of dnnex2 (new noise, same underlying)")
    expect_at_most(what, value, Q5_MSE_HIDDEN_MAX,
                   q5_hint(sub, net, draw))


@pytest.mark.check("q5_example2", points=2)
def test_q5_why_answer(sub):
    expect_choice(sub, "q5_why", ("A", "B", "C", "D"), Q5_WHY,
                  msg(ko="(a)와 (b)의 두 run을 비교해 보세요: 데이터, loss, 신경망(network), epoch 수는 같았습니다. "
                         "무엇이 달랐나요?",
                      en="Compare the two runs of (a) and (b): the data, the loss, the network and the number of "
                         "epochs were the same. What was different?"))
