"""Hidden checks of hw2_dnn q2: the kinked u by hand (LECTURE.md Part B).

Every number is recomputed from the network rebuilt from the student's weights (hw2_reference.py). Each
threshold is a module constant whose comment gives what the reference solution reaches and the margin;
calibrate.py beside this file measures them under 25 hidden draws and writes MARGINS.md. "reference" = the
source notebook's fit; "worst" = its worst value over the 25 draws; "margin" = threshold - worst.
"""

from __future__ import annotations

import pytest
import torch

from assignkit.checks import msg


import hw2_reference as R  # beside this file: the grader puts this folder on sys.path

Q2_GRID = torch.cat([torch.linspace(-2.0, 2.0, 801), torch.tensor([-1e-3, -3e-4, 3e-4, 1e-3, 0.123, -0.777])])
Q2_CHAIN_N = 37  # the hidden batch size of the shape chain
Q2_U_TOLERANCE = 1e-4  # |u - target| <= tol * max(1, |target|): float32 rounding only


def q2_target(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x < 0, 9 * x + 4.5, -4.5 * x + 4.5)


def _q2_layers(sub):
    l1, l2 = sub.module("l1"), sub.module("l2")
    for name, layer in (("l1", l1), ("l2", l2)):
        assert isinstance(layer, torch.nn.Linear), msg(
            ko=f"{name}은(는) torch.nn.Linear여야 합니다. 지금은 {sub.describe(name).ko}입니다",
            en=f"{name} should be a torch.nn.Linear; yours is {sub.describe(name).en}")
    return l1, l2


def _q2_u(l1, l2, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return l2(torch.relu(l1(x)))


@pytest.mark.check("q2_kink_by_hand", points=1)
def test_q2_layer_shapes(sub):
    l1, l2 = _q2_layers(sub)
    shapes = {"l1.weight": (tuple(l1.weight.shape), (2, 1)), "l2.weight": (tuple(l2.weight.shape), (1, 2)),
              "l1.bias": (tuple(l1.bias.shape) if l1.bias is not None else None, (2,)),
              "l2.bias": (tuple(l2.bias.shape) if l2.bias is not None else None, (1,))}
    wrong = [(name, got, want) for name, (got, want) in shapes.items() if got != want]
    assert not wrong, msg(
        ko="; ".join(f"{name}의 shape이 {got}입니다. {want}이어야 합니다" for name, got, want in wrong)
           + ". l1은 입력 1개를 hidden unit 2개로, l2는 그 2개를 출력 1개로 보냅니다.",
        en="; ".join(f"{name} has shape {got}; expected {want}" for name, got, want in wrong)
           + ". l1 takes 1 input to 2 hidden units, l2 takes those 2 to 1 output.")


@pytest.mark.check("q2_kink_by_hand", points=2)
def test_q2_u_is_the_kinked_line(sub, feedback):
    l1, l2 = _q2_layers(sub)
    x = Q2_GRID.reshape(-1, 1)
    try:
        u = _q2_u(l1, l2, x)
    except RuntimeError:
        raise AssertionError(msg(
            ko="l1과 l2로 shape (n, 1)인 x에 대해 u = l2(relu(l1(x)))를 계산할 수 없습니다: shape을 확인하세요 "
               "(l1: Linear(1, 2), l2: Linear(2, 1)).",
            en="u = l2(relu(l1(x))) cannot be computed for x of shape (n, 1) with your l1 and l2: check their shapes "
               "(l1: Linear(1, 2), l2: Linear(2, 1)).")) from None
    target = q2_target(x)
    order = torch.argsort(x.flatten())
    feedback.curve(msg(ko="q2: 나의 u = l2(relu(l1(x)))와 꺾인 직선", en="q2: your u = l2(relu(l1(x))) vs the kinked line"),
                   x.flatten()[order],
                   {msg(ko="목표 u (꺾인 직선)", en="target u (the kinked line)"): target.flatten()[order],
                    msg(ko="나의 u", en="your u"): u.flatten()[order]})
    assert u.shape == target.shape, msg(
        ko=f"shape {tuple(x.shape)}인 x에 대해 u의 shape이 {tuple(u.shape)}입니다. (n, 1)이어야 합니다",
        en=f"u has shape {tuple(u.shape)} for x of shape {tuple(x.shape)}; expected (n, 1)")
    bad = (u - target).abs() > Q2_U_TOLERANCE * target.abs().clamp(min=1)
    if bad.any():
        samples = torch.tensor([[-0.5], [0.5]])
        values = list(zip(samples.flatten().tolist(), _q2_u(l1, l2, samples).flatten().tolist(),
                          q2_target(samples).flatten().tolist()))
        raise AssertionError(msg(
            ko=f"u = l2(relu(l1(x)))가 시험한 점 {bad.numel()}개 중 {int(bad.sum())}개에서 9x+4.5 (x<0) / -4.5x+4.5 "
               "(x>0)가 아닙니다: " + ", ".join(f"x = {v:g}에서 {mine:.3f}, 기대값 {want:.3f}" for v, mine, want in values)
               + ".",
            en=f"u = l2(relu(l1(x))) is not 9x+4.5 (x<0) / -4.5x+4.5 (x>0) at {int(bad.sum())} of {bad.numel()} test "
               "points: " + ", ".join(f"at x = {v:g} yours is {mine:.3f}, expected {want:.3f}"
                                      for v, mine, want in values) + "."))


@pytest.mark.check("q2_kink_by_hand", points=1)
def test_q2_shape_chain(sub):
    l1, l2 = _q2_layers(sub)
    x = torch.linspace(-1, 1, Q2_CHAIN_N).reshape(-1, 1)
    chain = [("x", tuple(x.shape), (Q2_CHAIN_N, 1))]
    try:
        with torch.no_grad():
            h = l1(x)
            chain.append(("l1(x)", tuple(h.shape), (Q2_CHAIN_N, 2)))
            h = torch.relu(h)
            chain.append(("a1(l1(x))", tuple(h.shape), (Q2_CHAIN_N, 2)))
            u = l2(h)
            chain.append(("l2(a1(l1(x)))", tuple(u.shape), (Q2_CHAIN_N, 1)))
    except RuntimeError:
        raise AssertionError(msg(
            ko=f"shape ({Q2_CHAIN_N}, 1)인 x에서 l1 → a1 → l2 연결이 {chain[-1][0]} 뒤에 실패합니다: l1과 l2의 shape이 "
               "(n,1) → (n,2) → (n,1)에 맞지 않습니다.",
            en=f"for x of shape ({Q2_CHAIN_N}, 1) the chain l1 → a1 → l2 fails after {chain[-1][0]}: the shapes of "
               "l1 and l2 do not fit (n,1) → (n,2) → (n,1).")) from None
    wrong = [(name, got, want) for name, got, want in chain if got != want]
    assert not wrong, msg(ko="; ".join(f"{name}의 shape이 {got}입니다. {want}이어야 합니다" for name, got, want in wrong),
                          en="; ".join(f"{name} has shape {got}; expected {want}" for name, got, want in wrong))


@pytest.mark.check("q2_kink_by_hand", points=1)
def test_q2_yhat_is_sigmoid_of_u(sub, release_dir):
    l1, l2 = _q2_layers(sub)
    x = R.column(R.read(release_dir, "dnnex0.csv"), "x")
    yhat = sub.tensor("yhat", shape=(len(x), 1)).double()
    try:
        expected = torch.sigmoid(_q2_u(l1, l2, x)).double()
    except RuntimeError:
        raise AssertionError(msg(ko="yhat을 다시 계산할 수 없습니다: l1과 l2가 (n,1) → (n,2) → (n,1)에 맞지 않습니다.",
                                 en="yhat cannot be recomputed: l1 and l2 do not fit (n,1) → (n,2) → (n,1).")) from None
    gap = (yhat - expected).abs().max().item()
    assert gap <= 1e-5, msg(
        ko=f"yhat이 dnnex0의 x에서 직접 만든 l1과 l2로 계산한 a2(u) = sigmoid(l2(a1(l1(x))))가 아닙니다 (최대 {gap:.3g} "
           "차이). u = l2(a1(l1(x)))를 계산한 뒤 yhat = a2(u)로 구하세요.",
        en=f"yhat is not a2(u) = sigmoid(l2(a1(l1(x)))) computed from your own l1 and l2 on the dnnex0 x (they differ "
           f"by up to {gap:.3g}). Compute u = l2(a1(l1(x))), then yhat = a2(u).")
