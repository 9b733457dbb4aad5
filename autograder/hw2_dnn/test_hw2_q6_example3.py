"""Hidden checks of hw2_dnn q6: example 3, two inputs (LECTURE.md Part B).

Every number is recomputed from the network rebuilt from the student's weights (hw2_reference.py). Each
threshold is a module constant whose comment gives what the reference solution reaches and the margin;
calibrate.py beside this file measures them under 25 hidden draws and writes MARGINS.md. "reference" = the
source notebook's fit; "worst" = its worst value over the 25 draws; "margin" = threshold - worst.
"""

from __future__ import annotations

import numpy as np
import pytest

from assignkit.checks import expect_architecture, expect_at_least, expect_at_most, expect_trained_as, msg

import hw2_reference as R  # beside this file: the grader puts this folder on sys.path

# q6 (2-32-1 net on dnnex3, 3000 epochs). Best possible BCE (the true probability) is about 0.50.
Q6_ACCURACY_HIDDEN_MIN = 0.67  # reference 0.7170 (worst 0.6960), margin 0.026: MARGINS.md
Q6_BCE_HIDDEN_MAX = 0.60  # reference 0.5388 (worst 0.5636), margin 0.036; 100 epochs 0.64 fails
Q6_PROB_GAP_MAX = 0.14  # reference 0.0860, margin 0.054; x2 ignored 0.297, 300 epochs 0.230 fail


Q6_NET = "Sequential(Linear(2, 32), ReLU(), Linear(32, 1), Sigmoid())"
Q6_HINT = msg(ko=" 두 입력 x1과 x2를 모두 쓰고 (X의 shape은 (2000, 2)), BCELoss와 Adam으로 3000 epochs 학습하세요.",
              en=" Use both inputs x1 and x2 (X of shape (2000, 2)) and train 3000 epochs with BCELoss and Adam.")


@pytest.mark.check("q6_example3", points=1)
def test_q6_net_as_prescribed(sub):
    expect_architecture(sub, "net", Q6_NET)
    expect_trained_as(sub, "net", loss="BCELoss", optimizer="Adam", epochs=3000, lr=R.ADAM_LR)


def _q6_advice(sub, net, grid):
    """The cause of a poor fit when it can be told, else what the question asks."""
    return R.cause(sub, "net", net, R.inputs(grid), 43052, msg(ko="", en="")) or Q6_HINT


@pytest.mark.check("q6_example3", points=2)
def test_q6_accuracy_on_fresh_draw(sub, hidden_dir):
    net = expect_architecture(sub, "net", Q6_NET)
    value = R.accuracy_on(net, R.read(hidden_dir, "dnnex3_hidden.csv"))
    what = msg(ko="새로 뽑은 dnnex3에서 net의 정확도(accuracy, yhat > 0.5)",
               en="The accuracy (yhat > 0.5) of net on a fresh draw of dnnex3")
    expect_at_least(what, value, Q6_ACCURACY_HIDDEN_MIN,
                    _q6_advice(sub, net, R.read(hidden_dir, "dnnex3_hidden.csv")))


@pytest.mark.check("q6_example3", points=1)
def test_q6_bce_on_fresh_draw(sub, hidden_dir):
    net = expect_architecture(sub, "net", Q6_NET)
    value = R.bce_on(net, R.read(hidden_dir, "dnnex3_hidden.csv"))
    expect_at_most(msg(ko="새로 뽑은 dnnex3에서 net의 BCE", en="The BCE of net on a fresh draw of dnnex3"),
                   value, Q6_BCE_HIDDEN_MAX, _q6_advice(sub, net, R.read(hidden_dir, "dnnex3_hidden.csv")))


@pytest.mark.check("q6_example3", points=2)
def test_q6_probability_map(sub, hidden_dir, feedback):
    net = expect_architecture(sub, "net", Q6_NET)
    grid = R.read(hidden_dir, "dnnex3_grid.csv")
    x1, x2 = np.unique(grid.x1), np.unique(grid.x2)
    yours = R.predict(net, R.inputs(grid)).reshape(len(x2), len(x1))
    feedback.heatmap(msg(ko="q6: 나의 결정 지도(decision map, net이 본 y = 1의 확률)",
                         en="q6: your decision map (net's probability of y = 1)"), x1, x2, yours)
    feedback.heatmap(msg(ko="q6: y = 1의 실제 확률", en="q6: the true probability of y = 1"), x1, x2, grid.prob.to_numpy().reshape(len(x2), len(x1)))
    value = R.prob_gap(net, grid)
    expect_at_most(msg(ko="평면의 격자(grid)에서 |net(x1, x2) - 실제 확률|의 평균",
                       en="The mean of |net(x1, x2) - true probability| over a grid of the plane"),
                   value, Q6_PROB_GAP_MAX, _q6_advice(sub, net, grid))
