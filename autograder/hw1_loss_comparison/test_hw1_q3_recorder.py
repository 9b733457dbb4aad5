"""Q3 the training loop and the recorder: net_a after 1000 epochs of step1-4, and record's 50 records of the
MSE run from seed 43052, each against the grader's own re-run from the same start, optimizer and data."""

import pytest

from assignkit.checks import expect_architecture, msg, training_cause

import hw1_reference as ref  # beside this file: the grader puts this folder on sys.path

# Measured by calibrate.py on the published data and 2 fresh draws of y. Correct: the notebook's record, own Q2
# loss, fill_ with zero_grad first, two threads. Wrong: a start off by 0.01, lr 0.049/0.051, the start of seed
# 43053, recording after step4, 999 epochs.
# what of run (b): correct equal bit for bit (the BCE runs of Q4 show float noise <= 9.5e-7); wrong: recording
# after step4 4.8e-3 (margin x48), start + 0.01 0.01, lr +-2 % >= 0.021, seed 43053 0.35.
TOL_WHAT = 1e-4
# losses of run (b): correct equal bit for bit; wrong: start + 0.01 3.8e-4 (x38), lr +-2 % >= 1.3e-3 (recording
# after step4 keeps the losses as they are; TOL_WHAT catches it).
TOL_LOSS = 1e-5
# yhats of run (b): correct equal bit for bit; wrong: start + 0.01 2.4e-3 (x240), lr +-2 % >= 5.4e-3.
TOL_YHAT = 1e-5
# net_a after 1000 epochs: correct <= 2.4e-7 (own Q2 bce as the loss; margin x42); wrong: start + 0.01 7.0e-5
# (x7), 999 epochs 1.3e-3, lr +-2 % >= 0.026, seed 43053 0.039.
TOL_FINAL = 1e-5


def _record_rerun(release_dir, reference_cache):
    return ref.rerun(reference_cache, release_dir, "MSE", "SGD", ref.seed_start())


@pytest.mark.check("q3_recorder", points=2)
def test_loop_trains_net_a(sub, release_dir, reference_cache):
    net = expect_architecture(sub, "net_a", ref.LINEAR_SIGMOID)
    got = (net[0].bias.item(), net[0].weight.item())
    want = ref.rerun(reference_cache, release_dir, "BCE", "SGD", ref.seed_start()).final
    start = ref.seed_start()
    assert max(abs(g - s) for g, s in zip(got, start)) > TOL_FINAL, training_cause(sub.training(), "net_a") or msg(
        ko="net_a가 아직 시작값 그대로입니다: 학습되지 않았습니다. step4에 optimizer.step()을 넣고 step1-4를 1000번 "
           "실행하세요",
        en="net_a still has its starting values: it was not trained. Run step1-4 1000 times, with optimizer.step() "
           "in step4")
    cause = training_cause(sub.training(), "net_a")
    assert max(abs(g - w) for g, w in zip(got, want)) <= TOL_FINAL, cause or msg(
        ko=f"학습 후 net_a는 (w0hat, w1hat) = ({got[0]:.4f}, {got[1]:.4f})입니다. 채점기의 재실행(re-run) (seed "
           f"43052, BCELoss, SGD lr 0.05, 1000 epochs)은 ({want[0]:.4f}, {want[1]:.4f})에서 끝납니다. step1-4를 "
           "확인하세요: 매 epoch optimizer.step() 뒤에 optimizer.zero_grad(), 정확히 1000 epochs, lr 0.05",
        en=f"after training, net_a has (w0hat, w1hat) = ({got[0]:.4f}, {got[1]:.4f}); the grader's re-run (seed "
           f"43052, BCELoss, SGD lr 0.05, 1000 epochs) ends at ({want[0]:.4f}, {want[1]:.4f}). Check step1-4: "
           "optimizer.zero_grad() after optimizer.step() in every epoch, exactly 1000 epochs, lr 0.05")


@pytest.mark.check("q3_recorder", points=1)
def test_record_has_50_records(sub):
    ref.rows(sub.value("q3_yhats"), "q3_yhats", ref.RECORDS, ref.N,
             msg(ko="x 값 2000개 각각에서의 예측값", en="the prediction at each of the 2000 x values"))
    ref.rows(sub.value("q3_losses"), "q3_losses", ref.RECORDS, 1, ref.ONE_LOSS)
    ref.rows(sub.value("q3_what"), "q3_what", ref.RECORDS, 2, "[bias, weight] = [w0hat, w1hat]")


@pytest.mark.check("q3_recorder", points=2)
def test_record_what_follows_rerun(sub, release_dir, reference_cache):
    what = ref.rows(sub.value("q3_what"), "q3_what", ref.RECORDS, 2, "[bias, weight] = [w0hat, w1hat]")
    problem = ref.trajectory_problem(what, _record_rerun(release_dir, reference_cache).what, TOL_WHAT,
                                     lambda: ref.epoch_path(reference_cache, release_dir, "MSE", "SGD", ref.seed_start()))
    assert problem is None, msg(ko="q3_what이 채점기의 재실행(re-run) (MSELoss, SGD lr 0.05, seed 43052)과 다릅니다: ",
                                en="q3_what does not follow the grader's re-run (MSELoss, SGD lr 0.05, seed 43052): "
                                ) + problem


@pytest.mark.check("q3_recorder", points=1)
def test_record_losses_follow_rerun(sub, release_dir, reference_cache):
    losses = ref.rows(sub.value("q3_losses"), "q3_losses", ref.RECORDS, 1, ref.ONE_LOSS).reshape(-1)
    expected = _record_rerun(release_dir, reference_cache).losses
    bad = ((losses - expected).abs() > TOL_LOSS).nonzero()
    assert len(bad) == 0, msg(
        ko=f"q3_losses[{int(bad[0])}] (epoch {int(bad[0]) * ref.EVERY})는 {losses[bad[0]].item():.6f}입니다. 채점기의 "
           f"재실행(re-run)은 {expected[bad[0]].item():.6f}입니다. 그 epoch의 step2에서 loss.item()을 기록하세요",
        en=f"q3_losses[{int(bad[0])}] (epoch {int(bad[0]) * ref.EVERY}) is {losses[bad[0]].item():.6f}; the grader's "
           f"re-run has {expected[bad[0]].item():.6f}. Record loss.item() of step2 at that epoch")


@pytest.mark.check("q3_recorder", points=1)
def test_record_yhats_follow_rerun(sub, release_dir, reference_cache, feedback):
    yhats = ref.rows(sub.value("q3_yhats"), "q3_yhats", ref.RECORDS, ref.N,
                     msg(ko="각 x에서의 예측값", en="the prediction at each x"))
    expected = _record_rerun(release_dir, reference_cache).yhats
    _, x, _, underlying = ref.toy(release_dir)
    feedback.curve(msg(ko="Q3 record: epoch 980의 예측 곡선", en="Q3 record: the prediction curve at epoch 980"), x.flatten(),
                   {"underlying": underlying.flatten(), msg(ko="나의 q3_yhats[49]", en="your q3_yhats[49]"): yhats[-1],
                    msg(ko="채점기가 다시 학습한 값 (re-run)", en="grader's re-run"): expected[-1]})
    worst = (yhats - expected).abs().max(dim=1).values
    bad = (worst > TOL_YHAT).nonzero()
    assert len(bad) == 0, msg(
        ko=f"q3_yhats[{int(bad[0])}] (epoch {int(bad[0]) * ref.EVERY})가 채점기의 재실행(re-run)과 최대 "
           f"{worst[bad[0]].item():.3g} 다릅니다. 그 epoch의 step1에서 yhat을 yhat.reshape(-1).tolist()로 기록하세요",
        en=f"q3_yhats[{int(bad[0])}] (epoch {int(bad[0]) * ref.EVERY}) differs from the grader's re-run by up to "
           f"{worst[bad[0]].item():.3g}. Record yhat of step1 at that epoch, as yhat.reshape(-1).tolist()")
