"""Hidden checks of the tiny test homework: one per artifact kind."""

import pandas as pd
import pytest
import torch


def _x(release_dir):
    return torch.tensor(pd.read_csv(release_dir / "tiny.csv")["x"].values, dtype=torch.float32).reshape(-1, 1)


@pytest.mark.check("q1_tensor", points=1)
def test_t_is_twice_x(sub, release_dir):
    t = sub.tensor("t", shape=(5, 1))
    assert torch.allclose(t, 2 * _x(release_dir)), "t should be the x column times 2"


@pytest.mark.check("q2_net", points=1)
def test_net_shape(sub):
    net = sub.module("net")
    assert isinstance(net, torch.nn.Sequential) and len(net) == 2, f"net should be Linear(1,1) then Sigmoid; it is {sub.describe('net')}"


@pytest.mark.check("q2_net", points=1)
def test_net_weights(sub, release_dir, feedback):
    net = sub.module("net")
    x = _x(release_dir)
    with torch.no_grad():
        yhat = net(x)
    feedback.curve("your net", x.flatten(), {"your net": yhat.flatten(), "target": torch.sigmoid(2 * x - 1).flatten()})
    assert torch.allclose(yhat, torch.sigmoid(2 * x - 1), atol=1e-6), "net(x) should be sigmoid(2x - 1)"


@pytest.mark.check("q3_double", points=1)
def test_double(sub):
    calls = sub.calls("double")
    expected = [torch.tensor([[1.0, 2.0]]) * 2, torch.tensor([[3.0], [-4.0]]) * 2, 10]
    for call, want in zip(calls, expected, strict=True):
        assert call.error is None, f"double raised {call.error}"
        got = call.output
        ok = torch.equal(got, want) if isinstance(want, torch.Tensor) else (type(got) in (int, float) and got == want)
        assert ok, "double(v) should return 2 * v"
