"""Measure every tolerance of the hw1 checks: how far correct answers land from the grader's numbers, and how
close plausible wrong answers come.

    .venv/bin/python autograder/hw1_loss_comparison/calibrate.py [--seeds 3]     (about 45 s on a quiet core)

Correct answers are the source notebook's own solution cells (executed here, not copied) and variants a student
may reasonably write: the lecture's exp(u)/(1+exp(u)) instead of sigmoid, their own mse/bce from Q2 as the
loss, starting values set with fill_ instead of .data with zero_grad at the top of the loop, two torch threads
(the grader's sandbox has one). They run on the published y and on fresh draws of y (other seeds of the same
generator). Wrong answers are near misses: a learning rate off by 2 %, a start off by 0.01, recording after
step4, 999 epochs, other seeds, an epsilon added inside the logs.
The figures printed here are the ones written next to each tolerance in test_hw1_*.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import nbformat
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import hw1_reference as ref  # noqa: E402


def solution_namespace(x: torch.Tensor, y: torch.Tensor) -> dict:
    """The source notebook's answer cells for Q2 and Q3 (b), executed on (x, y): mse, bce, record."""
    nb = nbformat.read(ROOT / "source" / "hw1_loss_comparison" / "hw1_loss_comparison.ipynb", as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    namespace = {"torch": torch, "x": x, "y": y}
    for grade_id in ("q2_losses_answer", "q3_recorder_answer_b"):
        exec(cells[grade_id], namespace)
    return namespace


def student_train(x, y, loss_fn, optimizer, start, lr=ref.LR, *, fill=False, zero_grad_first=False,
                  record_after=False, epochs=ref.EPOCHS, every=ref.EVERY) -> ref.Record:
    """A student's recorder with the switches of the variants above."""
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    if fill:
        with torch.no_grad():
            net[0].bias.fill_(start[0])
            net[0].weight.fill_(start[1])
    else:
        net[0].bias.data = torch.tensor([start[0]])
        net[0].weight.data = torch.tensor([[start[1]]])
    opt = ref.OPTIMIZERS[optimizer](net.parameters(), lr=lr)
    yhats, losses, what = [], [], []

    def keep(yhat, loss):
        yhats.append(yhat.detach().reshape(-1))
        losses.append(loss.item())
        what.append([net[0].bias.item(), net[0].weight.item()])

    for epoch in range(epochs):
        if zero_grad_first:
            opt.zero_grad()
        yhat = net(x)
        loss = loss_fn(yhat, y)
        if epoch % every == 0 and not record_after:
            keep(yhat, loss)
        loss.backward()
        opt.step()
        if not zero_grad_first:
            opt.zero_grad()
        if epoch % every == 0 and record_after:
            keep(yhat, loss)
    return ref.Record(torch.stack(yhats).double(), torch.tensor(losses, dtype=torch.float64),
                      torch.tensor(what, dtype=torch.float64), (net[0].bias.item(), net[0].weight.item()))


def notebook_train(ns, x, y, loss_fn, optimizer, start, lr=ref.LR) -> ref.Record:
    """The source notebook's own `record`, on a net set up as the Q4 solution does."""
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    net[0].bias.data = torch.tensor([start[0]])
    net[0].weight.data = torch.tensor([[start[1]]])
    yhats, losses, what = ns["record"](net, loss_fn, ref.OPTIMIZERS[optimizer](net.parameters(), lr=lr), x, y)
    return ref.Record(torch.tensor(yhats, dtype=torch.float64), torch.tensor(losses, dtype=torch.float64),
                      torch.tensor(what, dtype=torch.float64), (net[0].bias.item(), net[0].weight.item()))


@contextlib.contextmanager
def threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def diff(a: ref.Record, b: ref.Record) -> dict[str, float]:
    return {"what": (a.what - b.what).abs().max().item(), "loss": (a.losses - b.losses).abs().max().item(),
            "yhat": (a.yhats - b.yhats).abs().max().item(),
            "final": max(abs(p - q) for p, q in zip(a.final, b.final))}


def data_draws(n: int) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """The published data plus n - 1 fresh draws of y from the same generator."""
    from data import hw1_toy  # this homework's generator beside this file: y ~ Bernoulli(sigmoid(-1 + 5x))

    _, x, y, _ = ref.toy(ROOT / "data")  # data/hw1_toy.csv, which the release ships
    draws = [("published", x, y)]
    for seed in range(1, n):
        df = hw1_toy(seed)
        draws.append((f"seed {seed}", torch.tensor(df.x.values, dtype=torch.float32).reshape(-1, 1),
                      torch.tensor(df.y.values, dtype=torch.float32).reshape(-1, 1)))
    return draws


def report(title: str, correct: dict[str, float], wrong: dict[str, float], tolerance: float) -> None:
    """The largest difference of a correct answer, and every wrong answer's difference, nearest first. A wrong
    answer that leaves this figure exactly as it is (recording after step4 keeps the losses) is another check's
    to catch and is listed apart."""
    worst = max(correct, key=correct.get)
    unseen = sorted(k for k, v in wrong.items() if v == 0)
    wrong = dict(sorted(((k, v) for k, v in wrong.items() if v > 0), key=lambda kv: kv[1]))
    print(f"\n{title}  (tolerance {tolerance:g})")
    if correct[worst] == 0:
        print("  correct answers, largest difference : 0, bit for bit the grader's")
    else:
        print(f"  correct answers, largest difference : {correct[worst]:.3g}  ({worst})"
              f"  -> margin x{tolerance / correct[worst]:.3g}")
    nearest = next(iter(wrong))
    print(f"  wrong answers, smallest difference  : {wrong[nearest]:.3g}  ({nearest})"
          f"  -> margin x{wrong[nearest] / tolerance:.3g}")
    print("  all wrong answers: " + "; ".join(f"{k} {v:.2g}" for k, v in wrong.items()))
    if unseen:
        print(f"  not visible here (another check catches it): {', '.join(unseen)}")


def calibrate_q1(x) -> None:
    import test_hw1_q1_yhat as q1

    bias, weight = ref.seed_start()
    grader = torch.sigmoid(bias + weight * x)
    with torch.random.fork_rng():
        torch.manual_seed(ref.SEED)
        l1 = torch.nn.Linear(1, 1)
    u = l1(x).detach()
    correct = {"a1(l1(x))": torch.nn.Sigmoid()(u), "exp(u)/(1+exp(u))": torch.exp(u) / (1 + torch.exp(u)),
               "1/(1+exp(-u))": 1 / (1 + torch.exp(-u)),
               "sigmoid(x @ W.T + b)": torch.sigmoid(x @ l1.weight.T + l1.bias)}
    correct = {k: (v.detach() - grader).abs().max().item() for k, v in correct.items()}
    wrong, wrong_start = {}, {}
    for seed in (0, 1, 43051, 43053, 2022):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            other = torch.nn.Linear(1, 1)
        wrong[f"seed {seed}"] = (torch.sigmoid(other(x)).detach() - grader).abs().max().item()
        wrong_start[f"seed {seed}"] = max(abs(other.bias.item() - bias), abs(other.weight.item() - weight))
    printed = torch.sigmoid(-0.8470 + -0.3467 * x)  # the values the lecture prints, typed in by hand
    wrong["start typed in as -0.8470, -0.3467"] = (printed - grader).abs().max().item()
    wrong_start["start typed in as -0.8470, -0.3467"] = max(abs(-0.8470 - bias), abs(-0.3467 - weight))
    wrong["l1(x) without sigmoid"] = (u - grader).abs().max().item()
    report("Q1 start of l1 (TOL_START)", {"seed 43052 (the grader's own Linear)": 0.0}, wrong_start, q1.TOL_START)
    report("Q1 yhat (TOL_YHAT)", correct, wrong, q1.TOL_YHAT)


def calibrate_q2(ns) -> None:
    import test_hw1_q2_losses as q2

    inputs_file = HERE / "loss_inputs.json"
    if inputs_file.is_file():
        calls = json.loads(inputs_file.read_text())
    else:
        from data import loss_inputs

        calls = loss_inputs()
    tensors = [[torch.tensor(a, dtype=torch.float32) for a in call] for call in calls]
    generator = torch.Generator().manual_seed(0)
    for n in (1, 3, 10, 100, 2000):  # extra random inputs, including ones near 0 and 1
        yhat = torch.rand(n, 1, generator=generator) * 0.98 + 0.01
        near = torch.rand(n, 1, generator=generator) < 0.3
        yhat = torch.where(near, torch.where(yhat < 0.5, 1e-4, 1 - 1e-4), yhat).float()
        tensors.append([yhat, torch.bernoulli(torch.full((n, 1), 0.5), generator=generator)])

    mse_correct = {"notebook mse": ns["mse"], "((yhat - y)**2).mean()": lambda a, b: ((a - b) ** 2).mean(),
                   "sum / n": lambda a, b: ((b - a) ** 2).sum() / len(a),
                   "float64 then float32": lambda a, b: torch.mean((b.double() - a.double()) ** 2).float()}
    mse_wrong = {"sum instead of mean": lambda a, b: ((b - a) ** 2).sum(),
                 "abs instead of square": lambda a, b: (b - a).abs().mean(),
                 "mean of (y - yhat), not squared": lambda a, b: (b - a).mean() ** 2}
    bce_correct = {"notebook bce": ns["bce"],
                   "log1p(-yhat)": lambda a, b: -(b * torch.log(a) + (1 - b) * torch.log1p(-a)).mean(),
                   "float64 then float32": lambda a, b: ns["bce"](a.double(), b.double()).float(),
                   "sum / n": lambda a, b: -(b * a.log() + (1 - b) * (1 - a).log()).sum() / len(a),
                   "log(yhat + 1e-8)": lambda a, b: -(b * torch.log(a + 1e-8)
                                                      + (1 - b) * torch.log(1 - a + 1e-8)).mean()}
    bce_wrong = {"sign flipped": lambda a, b: (b * a.log() + (1 - b) * (1 - a).log()).mean(),
                 "(1-y)log(1-yhat) missing": lambda a, b: -(b * a.log()).mean(),
                 "sum instead of mean": lambda a, b: -(b * a.log() + (1 - b) * (1 - a).log()).sum(),
                 "log(yhat + 1e-4)": lambda a, b: -(b * torch.log(a + 1e-4) + (1 - b) * torch.log(1 - a + 1e-4)).mean(),
                 "clamp(yhat, 1e-3, 1-1e-3)": lambda a, b: ns["bce"](a.clamp(1e-3, 1 - 1e-3), b)}

    def errors(functions, torch_loss, subset):
        """Per function, its largest miss over the inputs in units of the check's tolerance: a correct answer
        must stay below 1 on every input, a wrong one is caught when it goes above 1 on at least one."""
        return {name: max(abs(f(yhat, y).item() - torch_loss(yhat, y).item())
                          / (q2.ATOL + q2.RTOL * abs(torch_loss(yhat, y).item())) for yhat, y in subset)
                for name, f in functions.items()}

    edge = [t for t in tensors if q2.has_edges(t[0])]
    plain = [t for t in tensors if not q2.has_edges(t[0])]
    print(f"\n(Q2 figures are in units of the tolerance: |got - want| / (ATOL + RTOL |want|), "
          f"ATOL {q2.ATOL:g}, RTOL {q2.RTOL:g}; {len(plain)} inputs inside [0.01, 0.99], {len(edge)} with edges)")
    report("Q2 mse on all inputs", errors(mse_correct, torch.nn.MSELoss(), tensors),
           errors(mse_wrong, torch.nn.MSELoss(), tensors), 1.0)
    report("Q2 bce on inputs inside [0.01, 0.99]", errors(bce_correct, torch.nn.BCELoss(), plain),
           errors({k: f for k, f in bce_wrong.items() if "1e-4" not in k and "clamp" not in k},
                  torch.nn.BCELoss(), plain), 1.0)
    report("Q2 bce on inputs with yhat near 0 and 1", errors(bce_correct, torch.nn.BCELoss(), edge),
           errors(bce_wrong, torch.nn.BCELoss(), edge), 1.0)


def calibrate_runs(draws, ns) -> None:
    import test_hw1_q3_recorder as q3
    import test_hw1_q4_sgd as q4
    import test_hw1_q5_adam as q5

    seed = ref.seed_start()
    # Per question, its runs and what its checks compare of each: Q3 (a) only net_a's final weights, Q3 (b) the
    # records of q3_yhats, q3_losses, q3_what; Q4 and Q5 each run's what and losses.
    groups = {"Q3": [("(a) BCE", "BCE", "SGD", seed, ("final",)),
                     ("(b) MSE", "MSE", "SGD", seed, ("what", "loss", "yhat"))],
              **{q: [(f"run {k}", loss, opt, start, ("what", "loss")) for k, (loss, start) in enumerate(ref.RUNS, 1)]
                 for q, opt in (("Q4", "SGD"), ("Q5", "Adam"))}}
    parts = ("what", "loss", "yhat", "final")
    # correct[group][part][condition] = difference; wrong[group][part][answer][condition] = difference
    correct = {g: {p: {} for p in parts} for g in groups}
    wrong = {g: {p: {} for p in parts} for g in groups}
    radius_correct, radius_wrong = {}, {}
    for data_name, x, y in draws:
        started = time.time()
        own = {"MSE": ns["mse"], "BCE": ns["bce"]}
        for group, configs in groups.items():
            for label, loss, opt, start, checked in configs:
                where = f"{label}, {data_name}"
                grader = ref.train(x, y, loss, opt, start)
                torch_loss = ref.LOSSES[loss]()
                variants = {
                    "notebook record": notebook_train(ns, x, y, torch_loss, opt, start),
                    "own Q2 loss": student_train(x, y, own[loss], opt, start),
                    "fill_ and zero_grad first": student_train(x, y, torch_loss, opt, start, fill=True,
                                                               zero_grad_first=True),
                }
                with threads(2):
                    variants["2 threads"] = student_train(x, y, torch_loss, opt, start)
                for name, record in variants.items():
                    for part, value in diff(record, grader).items():
                        if part in checked:
                            correct[group][part][f"{name}, {where}"] = value
                near_misses = {
                    "lr 0.051": student_train(x, y, torch_loss, opt, start, lr=0.051),
                    "lr 0.049": student_train(x, y, torch_loss, opt, start, lr=0.049),
                    "bias +0.01": student_train(x, y, torch_loss, opt, (start[0] + 0.01, start[1])),
                    "recorded after step4": student_train(x, y, torch_loss, opt, start, record_after=True),
                }
                if group == "Q3":
                    with torch.random.fork_rng():
                        torch.manual_seed(ref.SEED + 1)
                        other = torch.nn.Linear(1, 1)
                    other = (other.bias.item(), other.weight.item())
                    near_misses["seed 43053"] = student_train(x, y, torch_loss, opt, other)
                if "final" in checked:
                    near_misses["999 epochs"] = student_train(x, y, torch_loss, opt, start, epochs=999)
                for name, record in near_misses.items():
                    for part, value in diff(record, grader).items():
                        if part in checked:
                            wrong[group][part].setdefault(name, {})[where] = value
                if opt == "Adam":
                    w0, w1 = ref.bce_optimum(x, y)

                    def distance(record):
                        return ((record.what[-1, 0] - w0) ** 2 + (record.what[-1, 1] - w1) ** 2).sqrt().item()

                    radius_correct[where] = distance(variants["notebook record"])
                    for name, record in (("SGD instead of Adam", ref.train(x, y, loss, "SGD", start)),
                                         ("Adam lr 0.001 (its default)",
                                          student_train(x, y, torch_loss, "Adam", start, lr=0.001)),
                                         ("Adam lr 0.01", student_train(x, y, torch_loss, "Adam", start, lr=0.01))):
                        radius_wrong.setdefault(name, {})[where] = distance(record)
        print(f"[{data_name}: 10 runs x 8-9 variants in {time.time() - started:.0f} s]", flush=True)

    def caught(table):
        """Each wrong answer's largest difference over the runs of a question: it loses the question's points
        when it misses in at least one run (per-run checks: see the closest single runs printed below)."""
        return {name: max(by_run.values()) for name, by_run in table.items()}

    def closest_runs(table, n=3):
        single = {f"{name} / {run}": v for name, by_run in table.items() for run, v in by_run.items()}
        return "; ".join(f"{k}: {single[k]:.3g}" for k in sorted(single, key=single.get)[:n])

    for group, module in (("Q3", q3), ("Q4", q4), ("Q5", q5)):
        report(f"{group} trajectory what (TOL_WHAT)", correct[group]["what"], caught(wrong[group]["what"]),
               module.TOL_WHAT)
        print("  closest single runs of wrong answers:", closest_runs(wrong[group]["what"]))
        report(f"{group} recorded losses (TOL_LOSS)", correct[group]["loss"], caught(wrong[group]["loss"]),
               module.TOL_LOSS)
    report("Q3 recorded yhats (TOL_YHAT)", correct["Q3"]["yhat"], caught(wrong["Q3"]["yhat"]), q3.TOL_YHAT)
    report("Q3 (a) net_a after 1000 epochs (TOL_FINAL)", correct["Q3"]["final"], caught(wrong["Q3"]["final"]),
           q3.TOL_FINAL)
    report("Q5 last record of each Adam run: distance to the BCE optimum (RADIUS)", radius_correct,
           {name: max(by_run.values()) for name, by_run in radius_wrong.items()}, q5.RADIUS)
    print("  (a wrong answer loses the check when one of its four runs ends outside RADIUS: its farthest run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="data sets: the published one plus fresh draws of y")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in the grader's sandbox; one variant runs with 2
    draws = data_draws(args.seeds)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; data: {', '.join(d[0] for d in draws)}")
    _, x, y = draws[0]
    ns = solution_namespace(x, y)
    calibrate_q1(x)
    calibrate_q2(ns)
    calibrate_runs(draws, ns)


if __name__ == "__main__":
    main()
