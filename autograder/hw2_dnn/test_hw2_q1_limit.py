"""Hidden checks of hw2_dnn q1: the limit of logistic regression (LECTURE.md Part B).

Every number is recomputed from the network rebuilt from the student's weights (hw2_reference.py). Each
threshold is a module constant whose comment gives what the reference solution reaches and the margin;
calibrate.py beside this file measures them under 25 hidden draws and writes MARGINS.md. "reference" = the
source notebook's fit; "worst" = its worst value over the 25 draws; "margin" = threshold - worst.
"""

from __future__ import annotations

import pytest

from assignkit.checks import expect_architecture, expect_choice, expect_trained_as, msg

import hw2_reference as R  # beside this file: the grader puts this folder on sys.path

# Reference (6000 epochs) +0.0000 (converged), margin 0.002; 3000 epochs +0.013, 1000 +0.129, 100 +0.385 fail.
Q1_BCE_EXCESS_MAX = 0.002
Q1_MORE_EPOCHS = "C"  # no: sigmoid(w0 + w1 x) is monotone in x


Q1_NET = "Sequential(Linear(1, 1), Sigmoid())"


@pytest.mark.check("q1_limit", points=1)
def test_q1_net_as_prescribed(sub):
    expect_architecture(sub, "net", Q1_NET)
    expect_trained_as(sub, "net", loss="BCELoss", optimizer="Adam", epochs=6000, lr=R.ADAM_LR)


@pytest.mark.check("q1_limit", points=2)
def test_q1_fit_is_the_best_logistic_curve(sub, release_dir, feedback):
    net = expect_architecture(sub, "net", Q1_NET)
    df = R.read(release_dir, "dnnex0.csv")
    R.draw_fit(feedback, msg(ko="q1: 나의 logistic 적합과 underlying", en="q1: your logistic fit vs underlying"), net, df, df)
    yours, best = R.bce_on(net, df), R.best_logistic_bce(df)
    advice = R.cause(sub, "net", net, R.column(df, "x"), 43052, msg(ko="", en="")) or msg(
        ko=" 학습이 수렴하지 않았습니다. torch.manual_seed(43052)부터 Adam(기본 learning rate)으로 6000 epochs 학습하세요.",
        en=" Your training has not converged. Train 6000 epochs with Adam (default learning rate) from "
           "torch.manual_seed(43052).")
    assert yours <= best + Q1_BCE_EXCESS_MAX, msg(
        ko=f"dnnex0에서 로지스틱 적합(logistic fit)의 BCE는 {yours:.4f}인데, sigmoid(w0 + w1·x)가 도달할 수 있는 최선은 "
           f"{best:.4f}입니다.",
        en=f"The BCE of your logistic fit on dnnex0 is {yours:.4f}, but the best any sigmoid(w0 + w1·x) can reach is "
           f"{best:.4f}.") + advice


@pytest.mark.check("q1_limit", points=2)
def test_q1_more_epochs_answer(sub):
    expect_choice(sub, "q1_more_epochs", ("A", "B", "C", "D"), Q1_MORE_EPOCHS,
                  msg(ko="w0와 w1이 무엇이든, x가 커질 때 sigmoid(w0 + w1·x)가 어떤 모양을 가질 수 있는지 생각해 보세요.",
                      en="Think about which shapes sigmoid(w0 + w1·x) can take as x grows, whatever w0 and w1 are."))
