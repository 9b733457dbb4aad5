"""Q1 yhat three ways: l1, net, net3 and the three yhats, recomputed from seed 43052 and the released x."""

import pytest
import torch

from assignkit.checks import expect_architecture, msg

import hw1_reference as ref  # beside this file: the grader puts this folder on sys.path

# Figures measured by calibrate.py (published data).
# The start of l1 against a fresh Linear(1, 1) made in the grader under seed 43052. Correct: equal bit for bit.
# Wrong: the lecture's printed values typed in by hand (-0.8470, -0.3467) are 2.9e-5 away (margin x29), other
# seeds (43051, 43053, 0, 1, 2022) >= 0.059.
TOL_START = 1e-6
# yhat against sigmoid(bias + weight * x) in float32 from the seed's values. Correct: a1(l1(x)), the lecture's
# exp(u)/(1+exp(u)), 1/(1+exp(-u)), sigmoid(x @ W.T + b) differ by <= 6.0e-8 (margin x17). Wrong: the typed-in
# start 1.0e-5 (x10), other seeds >= 0.012, l1(x) without the sigmoid 1.4.
TOL_YHAT = 1e-6


def _expected_yhat(release_dir):
    _, x, _, _ = ref.toy(release_dir)
    bias, weight = ref.seed_start()
    return torch.sigmoid(bias + weight * x)


@pytest.mark.check("q1_yhat", points=1)
def test_l1_is_linear_1_1(sub):
    expect_architecture(sub, "l1", "Linear(1, 1)")


@pytest.mark.check("q1_yhat", points=1)
def test_l1_starts_at_seed_43052(sub):
    l1 = expect_architecture(sub, "l1", "Linear(1, 1)")
    bias, weight = ref.seed_start()
    got = (l1.bias.item(), l1.weight.item())
    assert abs(got[0] - bias) <= TOL_START and abs(got[1] - weight) <= TOL_START, msg(
        ko=f"l1이 bias {got[0]:.6f}, weight {got[1]:.6f}에서 시작합니다. torch.manual_seed(43052) 바로 뒤에 만든 "
           f"Linear(1, 1)은 bias {bias:.6f}, weight {weight:.6f}입니다. l1을 만들기 직전에 torch.manual_seed(43052)를 "
           "호출하고, Q1에서는 l1을 바꾸거나 학습시키지 마세요",
        en=f"l1 starts at bias {got[0]:.6f}, weight {got[1]:.6f}; right after torch.manual_seed(43052) a new "
           f"Linear(1, 1) has bias {bias:.6f}, weight {weight:.6f}. Call torch.manual_seed(43052) just before "
           "making l1, and do not change or train l1 in Q1")


@pytest.mark.check("q1_yhat", points=1)
def test_net_and_net3_are_linear_then_sigmoid(sub):
    for name in ("net", "net3"):
        expect_architecture(sub, name, ref.LINEAR_SIGMOID)


@pytest.mark.check("q1_yhat", points=1)
@pytest.mark.parametrize("name, how", [
    ("yhat1", msg(ko="a1(l1(x))", en="a1(l1(x))")),
    ("yhat2", msg(ko="net = Sequential(l1, a1)일 때 net(x)", en="net(x) with net = Sequential(l1, a1)")),
    ("yhat3", msg(ko="net3(x) (net3을 만들기 직전에 seed 43052를 다시 설정)",
                  en="net3(x), with seed 43052 set again just before making net3"))],
    ids=["yhat1", "yhat2", "yhat3"])
def test_yhat(sub, release_dir, name, how):
    yhat = sub.tensor(name, shape=(ref.N, 1))
    expected = _expected_yhat(release_dir)
    worst = (yhat.double() - expected.double()).abs().max().item()
    assert worst <= TOL_YHAT, msg(
        ko=f"{name}이(가) seed 43052의 시작값으로 계산한 sigmoid(w0hat + w1hat * x)와 최대 {worst:.3g} 다릅니다. "
           f"{name}은(는) {how.ko}이어야 합니다",
        en=f"{name} differs from sigmoid(w0hat + w1hat * x) at seed 43052's starting values by up to {worst:.3g}; "
           f"{name} should be {how.en}")
