"""Q5 the four Adam runs: each recorded trajectory against the grader's re-run, and all four end near the
optimum (the lecture: about (-1.0, 4.8))."""

import pytest
import torch

from assignkit.checks import msg

import hw1_reference as ref  # beside this file: the grader puts this folder on sys.path

# Measured by calibrate.py on the published data and 2 fresh draws of y (correct and wrong answers as in Q4).
# what: correct <= 9.5e-7 (own Q2 bce, run 4; margin x105); wrong, in its farthest run: start + 0.01 0.010
# (x100), recording after step4 0.10, lr +-2 % 0.12.
TOL_WHAT = 1e-4
# losses: correct <= 4.8e-7 (x21); wrong: start + 0.01 4.0e-3 (x400), lr +-2 % 0.052.
TOL_LOSS = 1e-5
# Distance from each run's last record (epoch 980) to the BCE optimum of the data (Newton's method, float64, in
# the grader). Correct: <= 0.147 (run 1 on a fresh draw; the MSE runs settle at MSE's optimum, near but not at
# BCE's; margin x3.4). Wrong, in its farthest run: Adam lr 0.01 1.7 (x3.4), Adam's default lr 0.001 9.5, SGD
# instead of Adam 11.
RADIUS = 0.5


@pytest.mark.check("q5_adam", points=1)
@pytest.mark.parametrize("k", [1, 2, 3, 4], ids=["run1", "run2", "run3", "run4"])
def test_adam_run_follows_rerun(sub, release_dir, reference_cache, k):
    ref.check_run(sub.value("adam_what"), sub.value("adam_losses"), k, "Adam", "adam_runs", release_dir, reference_cache,
                  TOL_WHAT, TOL_LOSS)


@pytest.mark.check("q5_adam", points=1)
def test_adam_runs_reach_the_optimum(sub, release_dir, feedback):
    _, x, y, underlying = ref.toy(release_dir)
    w0, w1 = ref.bce_optimum(x, y)
    whats = sub.value("adam_what")
    assert isinstance(whats, list) and len(whats) == 4, msg(
        ko="adam_runs는 네 run의 list [run1, run2, run3, run4]여야 하고, 각각은 (yhats, losses, what)입니다",
        en="adam_runs should be a list of the four runs [run1, run2, run3, run4], each (yhats, losses, what)")
    ends = [ref.rows(what, f"what of adam_runs[{k}] (run {k + 1})", ref.RECORDS, 2, "[bias, weight]")[-1].tolist()
            for k, what in enumerate(whats)]
    feedback.curve(msg(ko="Q5 Adam: epoch 980에서 각 run의 예측", en="Q5 Adam: each run's prediction at epoch 980"),
                   x.flatten(),
                   {"underlying": underlying.flatten(),
                    **{msg(ko=f"{k}번째 run", en=f"run {k}"): torch.sigmoid(b + w * x.flatten()) for k, (b, w) in enumerate(ends, start=1)}})
    for k, end in enumerate(ends, start=1):
        distance = ((end[0] - w0) ** 2 + (end[1] - w1) ** 2) ** 0.5
        assert distance <= RADIUS, msg(
            ko=f"Adam run {k}이(가) (epoch 980) (w0hat, w1hat) = ({end[0]:.3f}, {end[1]:.3f})에서 끝나 최적점 "
               f"({w0:.3f}, {w1:.3f})에서 {distance:.2f} 떨어져 있습니다: Adam(lr=0.05)이면 네 run 모두 1000 epochs "
               "안에 도달합니다",
            en=f"Adam run {k} ends (epoch 980) at (w0hat, w1hat) = ({end[0]:.3f}, {end[1]:.3f}), {distance:.2f} away "
               f"from the optimum ({w0:.3f}, {w1:.3f}): with Adam(lr=0.05) all four runs get there within 1000 "
               "epochs")
