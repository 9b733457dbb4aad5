"""The data of hw2_dnn (`assignkit data` calls `write`; docs/checks.md, "The data generator").

Published: data/dnnex0..3.csv under PUBLISHED_SEED, which reproduces the lecture's dnnex2 and the x1, x2 of
dnnex3. Hidden: <name>_hidden.csv, fresh draws of the same generators under HIDDEN_SEED, and dnnex3_grid.csv.
Every generator is pure: it touches no global random state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from assignkit.data import write_csv

PUBLISHED_SEED = 43052
HIDDEN_SEED = 20221004
N = 2000


def _bernoulli(p: torch.Tensor, seed: int) -> np.ndarray:
    """0./1. draws; the same as `torch.manual_seed(seed); torch.bernoulli(p)`."""
    return torch.bernoulli(p, generator=torch.Generator().manual_seed(seed)).numpy()


def _lecture_x() -> np.ndarray:
    return np.linspace(-1, 1, N)


def _sigmoid32(u: np.ndarray) -> torch.Tensor:
    # u in float64, sigmoid in float32: this is how the lecture's files were made (bit for bit).
    return torch.sigmoid(torch.from_numpy(u).float())


def dnnex0(seed: int) -> pd.DataFrame:
    """Rises with x, then falls: u = 15x+5 for x<0, -5x+5 otherwise."""
    x = _lecture_x()
    underlying = _sigmoid32(np.where(x < 0, 15 * x + 5, -5 * x + 5))
    return pd.DataFrame({"x": x, "underlying": underlying.numpy(), "y": _bernoulli(underlying, seed)})


def dnnex1(seed: int) -> pd.DataFrame:
    """A slope, then a flat 9, then a step down to -9 at x = 0.6."""
    x = _lecture_x()
    u = np.select([x < -0.2, x < 0.6], [-15 * x - 6, np.full(N, 9.0)], np.full(N, -9.0))
    underlying = _sigmoid32(u)
    return pd.DataFrame({"x": x, "underlying": underlying.numpy(), "y": _bernoulli(underlying, seed)})


def dnnex2(seed: int) -> pd.DataFrame:
    """Regression: y = 2.5 + 4exp(-x) + 5cos(5x) + N(0, 0.5²), float32 as the lecture.

    exp and cos are taken in float64 and rounded once to float32: torch's float32 exp/cos differ in the last bit
    between CPUs (AVX2 and AVX512 kernels), which made the file depend on the machine that wrote it."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.linspace(-1, 1, N)
    eps = torch.randn(N, generator=generator) * 0.5
    x64 = x.double()
    underlying = (2.5 + 4 * torch.exp(-x64) + 5 * torch.cos(5 * x64)).float()
    return pd.DataFrame({"x": x.numpy(), "underlying": underlying.numpy(), "y": (underlying + eps).numpy()})


def dnnex3_probability(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """The true P(y = 1 | x1, x2) of dnnex3."""
    x1, x2 = np.asarray(x1, dtype=float), np.asarray(x2, dtype=float)
    u = np.select(
        [x1 < 0, x1 < 0.6, x2 > 1.5],
        [-3 * x1 - 3, np.zeros_like(x1), -0.5 * x1**2 - 10 * x2 + 5],
        x1 + 2 * x2 - 2,
    )
    return 1 / (1 + np.exp(-u))


def dnnex3(seed: int) -> pd.DataFrame:
    """Two inputs: (x1, x2) bivariate normal (corr 0.5), y ~ Bernoulli(dnnex3_probability)."""
    # RandomState(seed) is the stream of `np.random.seed(seed)`: seed 43052 gives the lecture's x1, x2.
    rng = np.random.RandomState(seed)
    x1, x2 = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=N).T
    y = rng.binomial(1, dnnex3_probability(x1, x2)).astype(float)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": y})


def dnnex3_grid(n: int = 60, limit: float = 3.5) -> pd.DataFrame:
    """dnnex3's true probability on an n×n grid over [-limit, limit]², x1 varying fastest."""
    x1, x2 = np.meshgrid(np.linspace(-limit, limit, n), np.linspace(-limit, limit, n))
    x1, x2 = x1.ravel(), x2.ravel()
    return pd.DataFrame({"x1": x1, "x2": x2, "prob": dnnex3_probability(x1, x2)})


GENERATORS = {"dnnex0": dnnex0, "dnnex1": dnnex1, "dnnex2": dnnex2, "dnnex3": dnnex3}


def write(data_dir: Path, hidden_dir: Path) -> list[Path]:
    published = [write_csv(data_dir / f"{name}.csv", make(PUBLISHED_SEED)) for name, make in GENERATORS.items()]
    hidden = [write_csv(hidden_dir / f"{name}_hidden.csv", make(HIDDEN_SEED)) for name, make in GENERATORS.items()]
    return [*published, *hidden, write_csv(hidden_dir / "dnnex3_grid.csv", dnnex3_grid())]
