"""Plausible wrong answers to hw1_loss_comparison, as edits of the source notebook's answer cells.

Each mutant replaces one exact piece of text (found exactly once) in one answer cell, named by its nbgrader
grade_id. A mutant in MUTANTS must lose points in exactly the question `breaks` and keep every other question's
points. A mutant in CASCADES breaks the `record` function of Q3, which Q4 and Q5 call to make their runs: it
must lose points in `breaks` and in every question of `also`, and keep the rest (Q1, Q2). test_hw1_grading.py
grades them all in one batch; autograder/hw1_loss_comparison/calibrate.py measures the same kinds of near misses
against the tolerances.
"""

from __future__ import annotations

from mutation import Mutant, MutantError, make_mutant  # noqa: F401 (re-exported)


RECORD_STEPS = """        if epoch % every == 0:
            yhats.append(yhat.reshape(-1).tolist())
            losses.append(loss.item())
            what.append([net[0].bias.item(), net[0].weight.item()])
        ## step3
        loss.backward()
        ## step4
        optimizer.step()
        optimizer.zero_grad()
"""

RECORD_AFTER_STEP4 = """        ## step3
        loss.backward()
        ## step4
        optimizer.step()
        optimizer.zero_grad()
        if epoch % every == 0:
            yhats.append(yhat.reshape(-1).tolist())
            losses.append(loss.item())
            what.append([net[0].bias.item(), net[0].weight.item()])
"""

MUTANTS: list[Mutant] = [
    # q1: yhat three ways
    Mutant("q1_wrong_seed", "q1_yhat_answer", "torch.manual_seed(43052)\nl1 = ", "torch.manual_seed(43053)\nl1 = ",
           "q1_yhat"),
    Mutant("q1_no_sigmoid", "q1_yhat_answer", "yhat1 = a1(l1(x))", "yhat1 = l1(x)", "q1_yhat"),
    Mutant("q1_inline_without_seed", "q1_yhat_answer", "torch.manual_seed(43052)\nnet3 = ", "net3 = ", "q1_yhat"),
    # q2: losses by hand
    Mutant("q2_bce_sign_flipped", "q2_losses_answer", "return -torch.mean(y * torch.log(yhat)",
           "return torch.mean(y * torch.log(yhat)", "q2_losses"),
    Mutant("q2_bce_term_missing", "q2_losses_answer",
           "-torch.mean(y * torch.log(yhat) + (1 - y) * torch.log(1 - yhat))", "-torch.mean(y * torch.log(yhat))",
           "q2_losses"),
    Mutant("q2_mse_sum_not_mean", "q2_losses_answer", "torch.mean((y - yhat) ** 2)", "torch.sum((y - yhat) ** 2)",
           "q2_losses"),
    # q3: the loop (a) and the recorder's own run (b)
    Mutant("q3_loop_zero_grad_forgotten", "q3_recorder_answer_a", "    optimizer.step()\n    optimizer.zero_grad()",
           "    optimizer.step()", "q3_recorder"),
    Mutant("q3_loop_wrong_lr", "q3_recorder_answer_a", "lr=0.05", "lr=0.1", "q3_recorder"),
    Mutant("q3_loop_100_epochs", "q3_recorder_answer_a", "range(1000)", "range(100)", "q3_recorder"),
    Mutant("q3_loop_optimizer_on_another_net", "q3_recorder_answer_a",
           "optimizer = torch.optim.SGD(net_a.parameters(), lr=0.05)",
           "optimizer = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.05)", "q3_recorder",
           says="does not hold net_a's parameters"),
    Mutant("q3_record_run_with_bce", "q3_recorder_answer_b", "record(net_b, torch.nn.MSELoss(),",
           "record(net_b, torch.nn.BCELoss(),", "q3_recorder"),
    # q4: the four SGD runs
    Mutant("q4_start_swapped", "q4_sgd_answer_a", "sgd_run(torch.nn.MSELoss(), -3.0, -1.0),   # 1",
           "sgd_run(torch.nn.MSELoss(), -1.0, -3.0),   # 1", "q4_sgd"),
    Mutant("q4_wrong_lr", "q4_sgd_answer_a", "lr=0.05", "lr=0.5", "q4_sgd"),
    Mutant("q4_runs_1_and_2_losses_swapped", "q4_sgd_answer_a",
           "sgd_run(torch.nn.MSELoss(), -3.0, -1.0),   # 1\n    sgd_run(torch.nn.BCELoss(), -3.0, -1.0),   # 2",
           "sgd_run(torch.nn.BCELoss(), -3.0, -1.0),   # 1\n    sgd_run(torch.nn.MSELoss(), -3.0, -1.0),   # 2",
           "q4_sgd"),
    Mutant("q4_wrong_stuck_run", "q4_sgd_answer_b", 'q4_stuck_run = "3"', 'q4_stuck_run = "4"', "q4_sgd"),
    Mutant("q4_wrong_reason", "q4_sgd_answer_b", 'q4_reason = "C"', 'q4_reason = "A"', "q4_sgd"),
    # q5: the four Adam runs
    Mutant("q5_sgd_instead_of_adam", "q5_adam_answer", "torch.optim.Adam(net.parameters(), lr=0.05)",
           "torch.optim.SGD(net.parameters(), lr=0.05)", "q5_adam"),
    Mutant("q5_adam_default_lr", "q5_adam_answer", "torch.optim.Adam(net.parameters(), lr=0.05)",
           "torch.optim.Adam(net.parameters())", "q5_adam"),
    Mutant("q5_bad_start_in_the_weight", "q5_adam_answer", "adam_run(torch.nn.BCELoss(), -10.0, -1.0),  # 4",
           "adam_run(torch.nn.BCELoss(), -1.0, -10.0),  # 4", "q5_adam"),
]

LATER = ("q4_sgd", "q5_adam")  # the questions whose runs are made with Q3's record

CASCADES: list[Mutant] = [
    Mutant("record_every_epoch", "q3_recorder_answer_b", "        if epoch % every == 0:\n",
           "        if True:  # every epoch\n", "q3_recorder", LATER),
    Mutant("record_bias_and_weight_swapped", "q3_recorder_answer_b",
           "what.append([net[0].bias.item(), net[0].weight.item()])",
           "what.append([net[0].weight.item(), net[0].bias.item()])", "q3_recorder", LATER),
    Mutant("record_zero_grad_forgotten", "q3_recorder_answer_b",
           "        optimizer.step()\n        optimizer.zero_grad()\n", "        optimizer.step()\n",
           "q3_recorder", LATER),
    Mutant("record_after_step4", "q3_recorder_answer_b", RECORD_STEPS, RECORD_AFTER_STEP4, "q3_recorder", LATER,
           says="after step4 changed them"),
    Mutant("record_one_epoch_early", "q3_recorder_answer_b", "        if epoch % every == 0:\n",
           "        if epoch % every == every - 1:\n", "q3_recorder", LATER, says="epochs 19, 39, 59"),
]
