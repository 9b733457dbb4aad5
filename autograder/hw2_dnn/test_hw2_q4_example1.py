"""Hidden checks of hw2_dnn q4: example 1 (LECTURE.md Part B).

Every number is recomputed from the network rebuilt from the student's weights (hw2_reference.py). Each
threshold is a module constant whose comment gives what the reference solution reaches and the margin;
calibrate.py beside this file measures them under 25 hidden draws and writes MARGINS.md. "reference" = the
source notebook's fit; "worst" = its worst value over the 25 draws; "margin" = threshold - worst.
"""

from __future__ import annotations

import pytest

from assignkit.checks import expect_architecture, expect_at_most, expect_trained_as, msg

import hw2_reference as R  # beside this file: the grader puts this folder on sys.path

# q4 (1-16-1 net on dnnex1, 6000 epochs). The jumps of `underlying` at x = -0.2 and x = 0.6 cannot be followed
# by a piecewise-linear u, so the max gap is taken away from them (|x - jump| >= Q4_JUMP_WINDOW).
Q4_JUMP_WINDOW = 0.1
Q4_BCE_DATA_MAX = 0.16  # reference 0.1423, margin 0.018; 1000 epochs 0.40 fails
Q4_MEAN_GAP_MAX = 0.06  # reference 0.0426, margin 0.017; 1000 epochs 0.24 fails
Q4_MAX_GAP_MAX = 0.15  # reference 0.0901, margin 0.060; 1000 epochs 0.65 fails
Q4_BCE_HIDDEN_MAX = 0.18  # reference 0.1392 (worst 0.1575), margin 0.022; 1000 epochs 0.39 fails


Q4_NET = "Sequential(Linear(1, 16), ReLU(), Linear(16, 1), Sigmoid())"
Q4_JUMPS = (-0.2, 0.6)
Q4_SEED_HINT = msg(ko="문제대로 torch.manual_seed(43052)부터 학습하거나, 다른 seed로 학습하세요.",
                   en="train from torch.manual_seed(43052) as asked, or from another seed.")


def _q4(sub, release_dir):
    net = expect_architecture(sub, "net", Q4_NET)
    df = R.read(release_dir, "dnnex1.csv")
    x = R.column(df, "x")
    cause = R.cause(sub, "net", net, x, 43052, Q4_SEED_HINT)
    return net, df, cause or R.dead_note(net, x, Q4_SEED_HINT), cause


@pytest.mark.check("q4_example1", points=1)
def test_q4_net_as_prescribed(sub):
    expect_architecture(sub, "net", Q4_NET)
    expect_trained_as(sub, "net", loss="BCELoss", optimizer="Adam", epochs=6000, lr=R.ADAM_LR)


@pytest.mark.check("q4_example1", points=1)
def test_q4_bce_on_data(sub, release_dir):
    net, df, note, cause = _q4(sub, release_dir)
    value = R.bce_on(net, df)
    expect_at_most(msg(ko="dnnex1에서 net의 BCE", en="The BCE of net on dnnex1"), value, Q4_BCE_DATA_MAX,
                   cause or msg(ko=" Adam으로 6000 epochs 학습하세요.", en=" Train 6000 epochs with Adam.") + note)


@pytest.mark.check("q4_example1", points=1)
def test_q4_mean_gap_to_underlying(sub, release_dir, hidden_dir, feedback):
    net, df, note, _ = _q4(sub, release_dir)
    grid = R.read(hidden_dir, "dnnex1_hidden.csv")
    R.draw_fit(feedback, msg(ko="q4: 나의 1-16-1 net과 underlying", en="q4: your 1-16-1 net vs underlying"), net, grid, df)
    mean, _ = R.gaps(net, grid, Q4_JUMPS, Q4_JUMP_WINDOW)
    expect_at_most(R.MEAN_GAP, mean, Q4_MEAN_GAP_MAX, note)


@pytest.mark.check("q4_example1", points=1)
def test_q4_max_gap_away_from_the_jumps(sub, release_dir, hidden_dir):
    net, df, note, _ = _q4(sub, release_dir)
    _, worst = R.gaps(net, R.read(hidden_dir, "dnnex1_hidden.csv"), Q4_JUMPS, Q4_JUMP_WINDOW)
    expect_at_most(msg(ko=f"x = -0.2와 0.6의 점프에서 떨어진 곳(|x - jump| >= {Q4_JUMP_WINDOW})에서 가장 큰 "
                          "|net(x) - underlying|",
                       en=f"Away from the jumps at x = -0.2 and 0.6 (|x - jump| >= {Q4_JUMP_WINDOW}), the largest "
                          "|net(x) - underlying|"),
                   worst, Q4_MAX_GAP_MAX, note)


@pytest.mark.check("q4_example1", points=1)
def test_q4_bce_on_fresh_draw(sub, release_dir, hidden_dir):
    net, df, note, _ = _q4(sub, release_dir)
    value = R.bce_on(net, R.read(hidden_dir, "dnnex1_hidden.csv"))
    expect_at_most(msg(ko="새로 뽑은 dnnex1 (새 y, 같은 underlying)에서 net의 BCE",
                       en="The BCE of net on a fresh draw of dnnex1 (new y, same underlying)"),
                   value, Q4_BCE_HIDDEN_MAX, note)
