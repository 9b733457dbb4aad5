"""Hidden checks of hw2_dnn q3: learning the kink (LECTURE.md Part B).

Every number is recomputed from the network rebuilt from the student's weights (hw2_reference.py). Each
threshold is a module constant whose comment gives what the reference solution reaches and the margin;
calibrate.py beside this file measures them under 25 hidden draws and writes MARGINS.md. "reference" = the
source notebook's fit; "worst" = its worst value over the 25 draws; "margin" = threshold - worst.
"""

from __future__ import annotations

import pytest

from assignkit.checks import expect_architecture, expect_at_most, expect_trained_as, msg

import hw2_reference as R  # beside this file: the grader puts this folder on sys.path

# q3 (1-2-1 net on dnnex0, 3000 + 3000 epochs). Best possible BCE (the true underlying) is 0.269.
Q3_BCE_DATA_MAX = 0.30  # reference 0.2798, margin 0.020; 3000 epochs only 0.3245 fails
Q3_MEAN_GAP_MAX = 0.03  # reference 0.0117, margin 0.018; 3000 epochs only 0.085 fails
Q3_MAX_GAP_MAX = 0.15  # reference 0.0565, margin 0.094; 3000 epochs only 0.305, dead-ReLU seeds >= 0.37 fail
Q3_BCE_HIDDEN_MAX = 0.32  # reference 0.2683 (worst 0.2875), margin 0.032; 100 epochs 0.62 fails


Q3_NET = "Sequential(Linear(1, 2), ReLU(), Linear(2, 1), Sigmoid())"
Q3_SEED_HINT = msg(ko="seed 43052로 3000 + 3000 epochs 학습하면 이 데이터에서 꺾이는 unit 두 개가 나옵니다. net을 만들기 "
                      "직전에 torch.manual_seed(43052)가 있는지 확인하거나, 다른 seed로 다시 학습하세요.",
                   en="seed 43052 with 3000 + 3000 epochs gives two units that bend on this data; check that "
                      "torch.manual_seed(43052) comes right before the net is made, or train again from another seed.")


def _q3(sub, release_dir):
    """The rebuilt net, the data, and the advice its fit checks give: the cause when it can be told, else a
    note on its ReLU units."""
    net = expect_architecture(sub, "net", Q3_NET)
    df = R.read(release_dir, "dnnex0.csv")
    x = R.column(df, "x")
    cause = R.cause(sub, "net", net, x, 43052, Q3_SEED_HINT)
    return net, df, cause or R.dead_note(net, x, Q3_SEED_HINT), cause


@pytest.mark.check("q3_learn_kink", points=1)
def test_q3_net_as_prescribed(sub):
    expect_architecture(sub, "net", Q3_NET)
    expect_trained_as(sub, "net", loss="BCELoss", optimizer="Adam", epochs=6000, lr=R.ADAM_LR)


@pytest.mark.check("q3_learn_kink", points=1)
def test_q3_bce_on_data(sub, release_dir):
    net, df, note, cause = _q3(sub, release_dir)
    value = R.bce_on(net, df)
    expect_at_most(msg(ko="dnnex0에서 net의 BCE", en="The BCE of net on dnnex0"), value, Q3_BCE_DATA_MAX,
                   cause or msg(ko=" Adam으로 3000 + 3000 epochs 학습하세요.", en=" Train 3000 + 3000 epochs with Adam.")
                   + note)


@pytest.mark.check("q3_learn_kink", points=1)
def test_q3_mean_gap_to_underlying(sub, release_dir, hidden_dir, feedback):
    net, df, note, _ = _q3(sub, release_dir)
    grid = R.read(hidden_dir, "dnnex0_hidden.csv")
    R.draw_fit(feedback, msg(ko="q3: 나의 1-2-1 net과 underlying", en="q3: your 1-2-1 net vs underlying"), net, grid, df)
    mean, _ = R.gaps(net, grid)
    expect_at_most(R.MEAN_GAP, mean, Q3_MEAN_GAP_MAX, note)


@pytest.mark.check("q3_learn_kink", points=1)
def test_q3_max_gap_to_underlying(sub, release_dir, hidden_dir):
    net, df, note, _ = _q3(sub, release_dir)
    _, worst = R.gaps(net, R.read(hidden_dir, "dnnex0_hidden.csv"))
    expect_at_most(R.MAX_GAP, worst, Q3_MAX_GAP_MAX, note)


@pytest.mark.check("q3_learn_kink", points=2)
def test_q3_bce_on_fresh_draw(sub, release_dir, hidden_dir):
    net, df, note, _ = _q3(sub, release_dir)
    value = R.bce_on(net, R.read(hidden_dir, "dnnex0_hidden.csv"))
    expect_at_most(msg(ko="새로 뽑은 dnnex0 (새 y, 같은 underlying)에서 net의 BCE",
                       en="The BCE of net on a fresh draw of dnnex0 (new y, same underlying)"),
                   value, Q3_BCE_HIDDEN_MAX, note)
