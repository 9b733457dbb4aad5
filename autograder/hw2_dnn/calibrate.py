"""Measure every threshold of test_hw2_*.py and write MARGINS.md beside this file.

    .venv/bin/python autograder/hw2_dnn/calibrate.py            # ~2 minutes on 2 cores

1. The reference: the source notebook's own code cells are run in this process (plots off, as when grading),
   and the nets of each question are taken from its namespace: exactly the training the notebook does.
2. Where a question leaves the training seed free (q5 (b)), the same training is rerun from the seed the
   notebook names (5) and from seeds 0..19, and the table says how many of them pass.
3. Every threshold on a hidden draw is evaluated under HIDDEN_SEEDS: the draw the grader ships
   (data.HIDDEN_SEED) and 24 more seeds of the same generators.
4. Plausible wrong answers are trained too; each must fail at least one check of its question.

The script exits 1 when the reference fails a threshold under any hidden seed or a wrong answer passes all the
checks of its question, so a change of data, torch or notebook that breaks a margin cannot go unnoticed.
"""

from __future__ import annotations

import copy
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
import nbformat  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))  # as when the grader runs the checks: the modules beside this file import by name
import data as D  # noqa: E402  (this homework's generator)
import hw2_reference as R  # noqa: E402
import test_hw2_q1_limit as q1  # noqa: E402
import test_hw2_q3_learn_kink as q3  # noqa: E402
import test_hw2_q4_example1 as q4  # noqa: E402
import test_hw2_q5_example2 as q5  # noqa: E402
import test_hw2_q6_example3 as q6  # noqa: E402

torch.set_num_threads(1)

HIDDEN_SEEDS = [D.HIDDEN_SEED] + list(range(1, 25))  # 25 draws; the first is the one the grader ships
Q5_FREE_SEEDS = [5] + list(range(20))  # the notebook names 5 (the lecture's); 0..19 show how common luck is
Q3_OTHER_SEEDS = list(range(10))  # not asked for: shows that some seeds kill the width-2 ReLU layer


# ---------------------------------------------------------------- the reference: the notebook itself

@contextmanager
def _cwd(path: Path):
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _snapshot(value):
    return value.detach().clone() if isinstance(value, torch.Tensor) else copy.deepcopy(value)


def run_source_notebook() -> dict[str, dict[str, torch.nn.Module | str]]:
    """Run the source notebook's code cells here; return, per question, the artifacts after its form cell."""
    notebook = nbformat.read(ROOT / "source" / "hw2_dnn" / "hw2_dnn.ipynb", as_version=4)
    import tomllib
    questions = tomllib.loads((HERE / "questions.toml").read_text())["question"]
    after = {q["after"]: q for q in questions}
    os.environ["ASSIGNKIT_GRADING"] = "1"  # the notebook skips its plots, as when it is graded
    namespace: dict = {"__name__": "__main__"}
    taken: dict[str, dict] = {}
    with _cwd(ROOT / "source" / "hw2_dnn"):
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            exec(compile(cell.source, cell.metadata["nbgrader"]["grade_id"], "exec"), namespace)
            question = after.get(cell.metadata["nbgrader"]["grade_id"])
            if question:
                taken[question["id"]] = {a["name"]: _snapshot(namespace[a["name"]]) for a in question["artifacts"]}
    torch.set_num_threads(1)
    return taken


# ---------------------------------------------------------------- training as the notebook writes it

def frame(name: str):
    path = ROOT / "data" / f"{name}.csv"
    if path.is_file():
        return R.read(path.parent, path.name)
    print(f"note: {path} is missing; using data.{name}(PUBLISHED_SEED)")
    return getattr(D, name)(D.PUBLISHED_SEED)


def make(layers: list, seed: int) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(*[layer() for layer in layers])


def train(net, x, y, loss_fn, epochs: int, transform=lambda x: x, optimizer=torch.optim.Adam, output=lambda u: u):
    optimizr = optimizer(net.parameters())
    for _ in range(epochs):
        loss = loss_fn(output(net(transform(x))), y)
        loss.backward()
        optimizr.step()
        optimizr.zero_grad()
    return net


def lin(i, o):
    return lambda: torch.nn.Linear(i, o)


RELU, SIG = torch.nn.ReLU, torch.nn.Sigmoid


def fit(name: str, layers: list, seed: int, epochs: int, loss_fn=None, transform=lambda x: x,
        optimizer=torch.optim.Adam, output=lambda u: u):
    df = frame(name)
    loss_fn = loss_fn or torch.nn.BCELoss()
    return train(make(layers, seed), R.inputs(df), R.column(df, "y"), loss_fn, epochs, transform, optimizer, output)


# ---------------------------------------------------------------- the metrics of every check

@dataclass
class Threshold:
    question: str
    check: str
    what: str
    bound: float
    below: bool  # the value must be <= bound (else >= bound)
    metric: object  # (net, hidden_seed) -> value
    uses_draw: bool = True
    rows: list = field(default_factory=list)  # (label, kind, worst, ok)


def hidden(name: str, seed: int):
    return getattr(D, name)(seed)


def thresholds() -> list[Threshold]:
    published = {n: frame(n) for n in ("dnnex0", "dnnex1", "dnnex2", "dnnex3")}
    grid3 = D.dnnex3_grid()
    best0 = R.best_logistic_bce(published["dnnex0"])
    return [
        Threshold("q1_limit", "test_q1_fit_is_the_best_logistic_curve", "BCE(net) − best logistic BCE on dnnex0",
                  q1.Q1_BCE_EXCESS_MAX, True, lambda n, s: R.bce_on(n, published["dnnex0"]) - best0, False),
        Threshold("q3_learn_kink", "test_q3_bce_on_data", "BCE on dnnex0", q3.Q3_BCE_DATA_MAX, True,
                  lambda n, s: R.bce_on(n, published["dnnex0"]), False),
        Threshold("q3_learn_kink", "test_q3_mean_gap_to_underlying", "mean abs(yhat − underlying)", q3.Q3_MEAN_GAP_MAX,
                  True, lambda n, s: R.gaps(n, hidden("dnnex0", s))[0], False),
        Threshold("q3_learn_kink", "test_q3_max_gap_to_underlying", "max abs(yhat − underlying)", q3.Q3_MAX_GAP_MAX,
                  True, lambda n, s: R.gaps(n, hidden("dnnex0", s))[1], False),
        Threshold("q3_learn_kink", "test_q3_bce_on_fresh_draw", "BCE on a hidden draw of dnnex0", q3.Q3_BCE_HIDDEN_MAX,
                  True, lambda n, s: R.bce_on(n, hidden("dnnex0", s))),
        Threshold("q4_example1", "test_q4_bce_on_data", "BCE on dnnex1", q4.Q4_BCE_DATA_MAX, True,
                  lambda n, s: R.bce_on(n, published["dnnex1"]), False),
        Threshold("q4_example1", "test_q4_mean_gap_to_underlying", "mean abs(yhat − underlying)", q4.Q4_MEAN_GAP_MAX,
                  True, lambda n, s: R.gaps(n, hidden("dnnex1", s), q4.Q4_JUMPS, q4.Q4_JUMP_WINDOW)[0], False),
        Threshold("q4_example1", "test_q4_max_gap_away_from_the_jumps",
                  f"max abs(yhat − underlying), abs(x − jump) ≥ {q4.Q4_JUMP_WINDOW}", q4.Q4_MAX_GAP_MAX, True,
                  lambda n, s: R.gaps(n, hidden("dnnex1", s), q4.Q4_JUMPS, q4.Q4_JUMP_WINDOW)[1], False),
        Threshold("q4_example1", "test_q4_bce_on_fresh_draw", "BCE on a hidden draw of dnnex1", q4.Q4_BCE_HIDDEN_MAX,
                  True, lambda n, s: R.bce_on(n, hidden("dnnex1", s))),
        Threshold("q5_example2", "test_q5_follows_underlying", "mean (yhat − underlying)²", q5.Q5_MSE_UNDERLYING_MAX,
                  True, lambda n, s: R.mse_on(n, hidden("dnnex2", s), "underlying"), False),
        Threshold("q5_example2", "test_q5_mse_on_fresh_draw", "MSE on a hidden draw of dnnex2", q5.Q5_MSE_HIDDEN_MAX,
                  True, lambda n, s: R.mse_on(n, hidden("dnnex2", s))),
        Threshold("q6_example3", "test_q6_accuracy_on_fresh_draw", "accuracy on a hidden draw of dnnex3",
                  q6.Q6_ACCURACY_HIDDEN_MIN, False, lambda n, s: R.accuracy_on(n, hidden("dnnex3", s))),
        Threshold("q6_example3", "test_q6_bce_on_fresh_draw", "BCE on a hidden draw of dnnex3", q6.Q6_BCE_HIDDEN_MAX,
                  True, lambda n, s: R.bce_on(n, hidden("dnnex3", s))),
        Threshold("q6_example3", "test_q6_probability_map", "mean abs(yhat − true prob) on the grid",
                  q6.Q6_PROB_GAP_MAX, True, lambda n, s: R.prob_gap(n, grid3), False),
    ]


def evaluate(threshold: Threshold, net) -> tuple[float, float, float]:
    """(value on the shipped draw, worst over HIDDEN_SEEDS, best over HIDDEN_SEEDS) of one net."""
    seeds = HIDDEN_SEEDS if threshold.uses_draw else HIDDEN_SEEDS[:1]
    values = [threshold.metric(net, s) for s in seeds]
    worst = max(values) if threshold.below else min(values)
    best = min(values) if threshold.below else max(values)
    return values[0], worst, best


def passes(threshold: Threshold, value: float) -> bool:
    return value <= threshold.bound if threshold.below else value >= threshold.bound


def margin(threshold: Threshold, value: float) -> float:
    return threshold.bound - value if threshold.below else value - threshold.bound


# ---------------------------------------------------------------- the nets to measure

def reference_nets(taken) -> dict[str, list[tuple[str, torch.nn.Module]]]:
    nets = {q: [("reference (notebook)", taken[q]["net"])] for q in
            ("q1_limit", "q3_learn_kink", "q4_example1", "q5_example2", "q6_example3")}
    return nets


def q5_free_seed_nets():
    mse = torch.nn.MSELoss()
    return [(f"seed {s}", fit("dnnex2", [lin(1, 32), RELU, lin(32, 1)], s, 6000, mse)) for s in Q5_FREE_SEEDS]


def wrong_nets() -> dict[str, list[tuple[str, torch.nn.Module]]]:
    """Plausible wrong answers, by question: each must fail at least one of its question's thresholds."""
    k121 = [lin(1, 2), RELU, lin(2, 1), SIG]
    k1161 = [lin(1, 16), RELU, lin(16, 1), SIG]
    k2321 = [lin(2, 32), RELU, lin(32, 1), SIG]
    r1321 = [lin(1, 32), RELU, lin(32, 1)]
    zero_x2 = torch.tensor([1.0, 0.0])
    return {
        "q1_limit": [("100 epochs", fit("dnnex0", [lin(1, 1), SIG], 43052, 100)),
                     ("1000 epochs", fit("dnnex0", [lin(1, 1), SIG], 43052, 1000)),
                     ("3000 epochs", fit("dnnex0", [lin(1, 1), SIG], 43052, 3000))],
        "q3_learn_kink": [("100 epochs", fit("dnnex0", k121, 43052, 100)),
                          ("3000 epochs only (part a)", fit("dnnex0", k121, 43052, 3000)),
                          ("untrained (yhat copied from underlying)", make(k121, 43052))],
        "q4_example1": [("100 epochs", fit("dnnex1", k1161, 43052, 100)),
                        ("sigmoid applied twice (BCELoss on sigmoid(net(x)))",
                         fit("dnnex1", k1161, 43052, 6000, output=torch.sigmoid)),
                        ("1000 epochs", fit("dnnex1", k1161, 43052, 1000)),
                        ("untrained (yhat copied from underlying)", make(k1161, 43052))],
        "q5_example2": [("stuck: seed 43052 (part a)", fit("dnnex2", r1321, 43052, 6000, torch.nn.MSELoss())),
                        ("seed 5, 600 epochs", fit("dnnex2", r1321, 5, 600, torch.nn.MSELoss())),
                        ("seed 5, BCEWithLogitsLoss", fit("dnnex2", r1321, 5, 6000, torch.nn.BCEWithLogitsLoss()))],
        "q6_example3": [("trained on x1 only (x2 zeroed)",
                         fit("dnnex3", k2321, 43052, 3000, transform=lambda x: x * zero_x2)),
                        ("100 epochs", fit("dnnex3", k2321, 43052, 100)),
                        ("300 epochs", fit("dnnex3", k2321, 43052, 300))],
    }


def record_only_nets() -> dict[str, list[tuple[str, torch.nn.Module]]]:
    """Wrong answers a good fit hides: trained against what the question prescribes. No threshold is meant to
    catch them; the record of the run does (test_qN_net_as_prescribed, tests/hw2/mutants.py)."""
    k121 = [lin(1, 2), RELU, lin(2, 1), SIG]
    k1161 = [lin(1, 16), RELU, lin(16, 1), SIG]
    k2321 = [lin(2, 32), RELU, lin(32, 1), SIG]
    mse = torch.nn.MSELoss()
    return {
        "q3_learn_kink": [("MSELoss instead of BCELoss", fit("dnnex0", k121, 43052, 6000, mse)),
                          ("SGD lr 1.0 instead of Adam", fit("dnnex0", k121, 43052, 6000,
                                                             optimizer=lambda p: torch.optim.SGD(p, lr=1.0)))],
        "q4_example1": [("MSELoss instead of BCELoss", fit("dnnex1", k1161, 43052, 6000, mse))],
        "q6_example3": [("MSELoss instead of BCELoss", fit("dnnex3", k2321, 43052, 3000, mse)),
                        ("2000 epochs instead of 3000", fit("dnnex3", k2321, 43052, 2000))],
    }


# ---------------------------------------------------------------- the report

def main() -> int:
    started = time.monotonic()
    taken = run_source_notebook()
    print(f"reference notebook run: {time.monotonic() - started:.1f} s", flush=True)
    refs = reference_nets(taken)
    free = q5_free_seed_nets()
    print(f"q5 free seeds trained: {time.monotonic() - started:.1f} s", flush=True)
    wrongs = wrong_nets()
    hidden_by_fit = record_only_nets()
    print(f"wrong answers trained: {time.monotonic() - started:.1f} s", flush=True)
    q3_seeds = [(s, fit("dnnex0", [lin(1, 2), RELU, lin(2, 1), SIG], s, 6000)) for s in Q3_OTHER_SEEDS]
    x0 = R.column(frame("dnnex0"), "x")
    table = thresholds()
    failures: list[str] = []
    lines = ["# hw2_dnn: thresholds, reference values and margins", "",
             "Regenerated by `.venv/bin/python autograder/hw2_dnn/calibrate.py`; do not edit by hand.",
             f"torch {torch.__version__}; hidden draws: seeds {HIDDEN_SEEDS[0]} (the shipped draw) and "
             f"{HIDDEN_SEEDS[1]}..{HIDDEN_SEEDS[-1]} ({len(HIDDEN_SEEDS)} draws) of the generators in data.py.",
             "'worst' is the reference's worst value over the draws (for a check on the published data or a fixed "
             "grid there is one value); margin = distance from the worst value to the threshold (positive = passes).",
             "", "## Reference solution", "",
             "| question | check | quantity | threshold | reference (shipped draw) | worst | margin |",
             "|---|---|---|---|---|---|---|"]
    for t in table:
        value, worst, _ = evaluate(t, refs[t.question][0][1])
        ok = passes(t, worst)
        failures += [] if ok else [f"reference fails {t.check}: {worst:.4f} vs {t.bound}"]
        sign = "≤" if t.below else "≥"
        lines.append(f"| {t.question} | {t.check} | {t.what} | {sign} {t.bound:g} | {value:.4f} | {worst:.4f} | "
                     f"{margin(t, worst):+.4f}{'' if ok else ' **FAILS**'} |")
    answers = {"q1_more_epochs": (taken["q1_limit"]["q1_more_epochs"], q1.Q1_MORE_EPOCHS),
               "q5_why": (taken["q5_example2"]["q5_why"], q5.Q5_WHY)}
    for name, (given, expected) in answers.items():
        if given != expected:
            failures.append(f"the notebook's {name} is {given!r}; the checks expect {expected!r}")
    lines += ["", "Choice answers in the notebook: " + ", ".join(f"{k} = {v[0]!r} (checks expect {v[1]!r})"
                                                                   for k, v in answers.items())]

    lines += ["", "## Wrong answers (each must fail at least one check of its question)", "",
              "Values are the wrong answer's *best* over the hidden draws (the most favourable to it).", "",
              "| question | wrong answer | check: value (✗ fails, ✓ passes) | caught |", "|---|---|---|---|"]
    for question, nets in wrongs.items():
        for label, net in nets:
            cells, caught = [], False
            for t in (t for t in table if t.question == question):
                _, _, best = evaluate(t, net)
                fails = not passes(t, best)
                caught |= fails
                cells.append(f"{t.check.removeprefix('test_')}: {best:.4f}{' ✗' if fails else ' ✓'}")
            failures += [] if caught else [f"wrong answer {question} / {label} passes every threshold"]
            lines.append(f"| {question} | {label} | {'<br>'.join(cells)} | {'yes' if caught else '**NO**'} |")

    lines += ["", "## Wrong answers only the record of the run catches", "",
              "Trained against the question's prescription (loss, optimizer, epochs), yet a good fit: the thresholds "
              "cannot tell, so `test_qN_net_as_prescribed` checks how the net was trained from the recorder's "
              "record (kernel_harvest.install_recorder). Values are the best over the hidden draws.", "",
              "| question | wrong answer | check: value (✗ fails, ✓ passes) |", "|---|---|---|"]
    for question, nets in hidden_by_fit.items():
        for label, net in nets:
            cells = []
            for t in (t for t in table if t.question == question):
                _, _, best = evaluate(t, net)
                cells.append(f"{t.check.removeprefix('test_')}: {best:.4f}{' ✓' if passes(t, best) else ' ✗'}")
            lines.append(f"| {question} | {label} | {'<br>'.join(cells)} |")

    lines += ["", "## q5 (b): the training seed is free", "",
              "The notebook names seed 5 (the lecture's). Other seeds, same training (6000 epochs):", "",
              "| seed | mean (yhat − underlying)² | worst hidden MSE | passes | dead ReLU units |",
              "|---|---|---|---|---|"]
    q5_thresholds = [t for t in table if t.question == "q5_example2"]
    x2 = R.column(frame("dnnex2"), "x")
    passing = 0
    for label, net in free:
        worsts = [evaluate(t, net)[1] for t in q5_thresholds]
        ok = all(passes(t, w) for t, w in zip(q5_thresholds, worsts))
        passing += ok
        if label == "seed 5" and not ok:
            failures.append("q5 with the named seed 5 fails")
        lines.append(f"| {label.removeprefix('seed ')} | {worsts[0]:.4f} | {worsts[1]:.4f} | {'yes' if ok else 'no'} | "
                     f"{len(R.dead_units(net, x2))} of 32 |")
    lines += ["", f"{passing - 1} of seeds 0..19 pass (seed 5 is listed twice: first row).",
              "", "## q3: other seeds (not asked for; the lecture's 'some seeds never fit')", "",
              "| seed | BCE on dnnex0 | max abs(yhat − underlying) | dead units | always-active units | passes q3 |",
              "|---|---|---|---|---|---|"]
    q3_thresholds = [t for t in table if t.question == "q3_learn_kink"]
    for seed, net in q3_seeds:
        ok = all(passes(t, evaluate(t, net)[1]) for t in q3_thresholds)
        worst_gap = R.gaps(net, hidden("dnnex0", D.HIDDEN_SEED))[1]
        lines.append(f"| {seed} | {R.bce_on(net, frame('dnnex0')):.4f} | {worst_gap:.4f} | {len(R.dead_units(net, x0))} "
                     f"of 2 | {len(R.straight_units(net, x0))} of 2 | {'yes' if ok else 'no'} |")
    lines += ["", "## Verdict", "", "All margins hold." if not failures else "\n".join(f"- {f}" for f in failures),
              ""]
    (HERE / "MARGINS.md").write_text("\n".join(lines))  # no timings: the same inputs give the same file
    print("\n".join(lines))
    print(f"(calibration took {time.monotonic() - started:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
