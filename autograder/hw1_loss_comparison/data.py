"""The data of hw1_loss_comparison (`assignkit data` calls `write`; docs/checks.md, "The data generator").

Published: data/hw1_toy.csv, Part A of the lecture under PUBLISHED_SEED. Hidden: loss_inputs.json, the calls Q2's
checks make to the student's mse and bce. Every generator is pure: it touches no global random state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from assignkit.data import write_csv, write_json

PUBLISHED_SEED = 43052
LOSS_INPUTS_SEED = 4305
N = 2000


def hw1_toy(seed: int) -> pd.DataFrame:
    """Part A: y ~ Bernoulli(sigmoid(-1 + 5x)), x evenly spaced on [-1, 1] (float32, as the lecture)."""
    x = torch.linspace(-1, 1, N)
    underlying = torch.sigmoid(-1 + 5 * x)
    y = torch.bernoulli(underlying, generator=torch.Generator().manual_seed(seed)).numpy()
    return pd.DataFrame({"x": x.numpy(), "underlying": underlying.numpy(), "y": y})


def _loss_call(yhat: np.ndarray, y: np.ndarray) -> list:
    return [[[round(float(v), 6)] for v in yhat], [[float(v)] for v in y]]


def loss_inputs(seed: int = LOSS_INPUTS_SEED) -> list:
    """Hidden calls [yhat, y] (each an (n, 1) nested list) for comparing students' MSE/BCE with torch's.

    yhat stays inside (0, 1): at exactly 0 or 1 torch's BCELoss clamps its log at -100 and a hand-written
    BCE gives inf, which is not what the check is about.
    """
    rng = np.random.default_rng(seed)
    edges = np.array([1e-4, 1e-3, 0.5, 0.999, 1 - 1e-4])
    calls = [_loss_call(rng.uniform(0.01, 0.99, n), rng.integers(0, 2, n)) for n in (1, 7, 50)]
    calls.append(_loss_call(np.tile(edges, 2), np.repeat([0, 1], len(edges))))
    mixed = np.where(rng.random(50) < 0.3, rng.choice(edges, 50), rng.uniform(0.01, 0.99, 50))
    calls.append(_loss_call(mixed, rng.integers(0, 2, 50)))
    return calls


def write(data_dir: Path, hidden_dir: Path) -> list[Path]:
    return [write_csv(data_dir / "hw1_toy.csv", hw1_toy(PUBLISHED_SEED)),
            write_json(hidden_dir / "loss_inputs.json", loss_inputs())]
