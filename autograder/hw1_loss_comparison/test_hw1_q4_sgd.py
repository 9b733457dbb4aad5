"""Q4 the four SGD runs: each recorded trajectory against the grader's re-run from the same start, loss,
optimizer and data; and the two choice answers (which run does not move, and why)."""

import pytest

from assignkit.checks import expect_choice, msg

import hw1_reference as ref  # beside this file: the grader puts this folder on sys.path

# Measured by calibrate.py on the published data and 2 fresh draws of y. Correct: the notebook's record, own Q2
# loss, fill_ with zero_grad first, two threads. Wrong: a start off by 0.01, lr 0.049/0.051, recording after
# step4. A wrong answer loses the question when it misses in at least one of the four runs.
# what: correct <= 9.5e-7 (own Q2 bce, run 4; margin x105); wrong, in its farthest run: recording after step4
# 0.020 (x200), start + 0.01 0.030, lr +-2 % 0.11. Run 3 alone hardly moves: there lr +-2 % changes nothing in
# float32 on two of the three data sets (each update is below half a float32 step at -10), so those answers are
# caught by runs 1, 2 and 4.
TOL_WHAT = 1e-4
# losses: correct <= 7.2e-7 (x14); wrong: start + 0.01 4.0e-3 (x400), lr +-2 % 0.052 (recording after step4 keeps
# the losses; TOL_WHAT catches it).
TOL_LOSS = 1e-5

STUCK_RUN = "3"  # MSELoss from the bad start (-10, -1): loss stays at about 0.40, (w0hat, w1hat) moves < 1e-3
STUCK_REASON = "C"  # the MSE surface is flat far from the optimum; the BCE surface is convex


@pytest.mark.check("q4_sgd", points=1)
@pytest.mark.parametrize("k", [1, 2, 3, 4], ids=["run1", "run2", "run3", "run4"])
def test_sgd_run_follows_rerun(sub, release_dir, reference_cache, k):
    ref.check_run(sub.value("sgd_what"), sub.value("sgd_losses"), k, "SGD", "sgd_runs", release_dir, reference_cache,
                  TOL_WHAT, TOL_LOSS)


@pytest.mark.check("q4_sgd", points=1)
def test_stuck_run(sub):
    expect_choice(sub, "q4_stuck_run", ("1", "2", "3", "4"), STUCK_RUN,
                  msg(ko="그 run은 제자리에 머무는 run이 아닙니다: sgd_runs의 각 run에서 what의 첫 기록과 마지막 기록을 "
                         "비교해 보세요 (또는 애니메이션을 보세요)",
                      en="That run is not the one that stays put: compare the first and last record of what in "
                         "each run of sgd_runs (or watch the animations)"))


@pytest.mark.check("q4_sgd", points=1)
def test_stuck_reason(sub):
    expect_choice(sub, "q4_reason", ("A", "B", "C", "D"), STUCK_REASON,
                  msg(ko="그 run이 제자리에 머무는 이유가 아닙니다: (-10, -1) 근처의 두 loss surface를 보고, 같은 "
                         "시작점과 같은 learning rate로 한 다른 run이 어떻게 되는지 보세요",
                      en="That is not why the run stays put: look at the two loss surfaces around (-10, -1), and at "
                         "what the other run from the same start and with the same learning rate does"))
