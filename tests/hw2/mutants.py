"""Plausible wrong answers to hw2_dnn, as edits of the source notebook's answer cells.

Each mutant replaces one exact piece of text (found exactly once) in one answer cell, named by its nbgrader
grade_id. A mutant in MUTANTS must lose points in exactly the question `breaks` and keep every other question's
points; one in CASCADES also in every question of `also` (the layout of tests/hw1/mutants.py; hw2 has none).
test_hw2_grading.py grades them all in one batch; autograder/hw2_dnn/calibrate.py measures the same kinds of
wrong fits against the thresholds.
"""

from __future__ import annotations

from mutation import Mutant, MutantError, make_mutant  # noqa: F401 (re-exported)


Q3_ARCH = """    torch.nn.Linear(in_features=1, out_features=2),
    torch.nn.ReLU(),
    torch.nn.Linear(in_features=2, out_features=1),"""

Q2_WEIGHTS = """l1.weight.data = torch.tensor([[1.0], [-1.0]])
l1.bias.data = torch.tensor([0.0, 0.0])
l2.weight.data = torch.tensor([[-4.5, -9.0]])"""

Q4_LOOP = """for epoc in range(6000):
    # step1
    yhat = net(x)
    # step2
    loss = loss_fn(yhat, y)
    # step3
    loss.backward()
    # step4
    optimizr.step()
    optimizr.zero_grad()"""

Q6_ARCH_AND_STEP1 = """    torch.nn.Linear(in_features=2, out_features=32),
    torch.nn.ReLU(),
    torch.nn.Linear(in_features=32, out_features=1),
    torch.nn.Sigmoid(),
)
loss_fn = torch.nn.BCELoss()
optimizr = torch.optim.Adam(net.parameters())
for epoc in range(3000):
    # step1
    yhat = net(X)"""

Q4_NET_AND_OPTIMIZER = """torch.manual_seed(43052)
net = torch.nn.Sequential(
    torch.nn.Linear(in_features=1, out_features=16),
    torch.nn.ReLU(),
    torch.nn.Linear(in_features=16, out_features=1),
    torch.nn.Sigmoid(),
)
loss_fn = torch.nn.BCELoss()
optimizr = torch.optim.Adam(net.parameters())"""

# The optimizer made before the new net, so it holds the parameters of the net of q3.
Q4_OPTIMIZER_FIRST = """optimizr = torch.optim.Adam(net.parameters())
torch.manual_seed(43052)
net = torch.nn.Sequential(
    torch.nn.Linear(in_features=1, out_features=16),
    torch.nn.ReLU(),
    torch.nn.Linear(in_features=16, out_features=1),
    torch.nn.Sigmoid(),
)
loss_fn = torch.nn.BCELoss()"""

MUTANTS: list[Mutant] = [
    # q1: the limit of logistic regression
    Mutant("q1_100_epochs", "q1_answer_a", "for epoc in range(6000):", "for epoc in range(100):", "q1_limit"),
    Mutant("q1_more_epochs_would_help", "q1_answer_b", 'q1_more_epochs = "C"', 'q1_more_epochs = "A"', "q1_limit"),
    # q2: the kinked u by hand
    Mutant("q2_kink_signs_swapped", "q2_answer", "l1.weight.data = torch.tensor([[1.0], [-1.0]])",
           "l1.weight.data = torch.tensor([[-1.0], [1.0]])", "q2_kink_by_hand"),
    Mutant("q2_l1_l2_shapes_swapped", "q2_answer", Q2_WEIGHTS,
           Q2_WEIGHTS.replace("[[1.0], [-1.0]]", "[[1.0, -1.0]]").replace("[[-4.5, -9.0]]", "[[-4.5], [-9.0]]"),
           "q2_kink_by_hand"),
    Mutant("q2_no_sigmoid", "q2_answer", "yhat = a2(u)", "yhat = u", "q2_kink_by_hand"),
    Mutant("q2_yhat_copied_from_underlying", "q2_answer", "yhat = a2(u)",
           "yhat = torch.tensor(df.underlying).float().reshape(-1, 1)", "q2_kink_by_hand"),
    # q3: learning the kink
    Mutant("q3_no_relu", "q3_answer_a", Q3_ARCH, Q3_ARCH.replace("    torch.nn.ReLU(),\n", ""), "q3_learn_kink"),
    Mutant("q3_forgot_the_second_3000", "q3_answer_b", "for epoc in range(3000):", "for epoc in range(0):",
           "q3_learn_kink"),
    Mutant("q3_seed_with_dead_relu", "q3_answer_a", "torch.manual_seed(43052)", "torch.manual_seed(0)",
           "q3_learn_kink"),
    # q4: example 1
    Mutant("q4_100_epochs", "q4_answer", "for epoc in range(6000):", "for epoc in range(100):", "q4_example1"),
    Mutant("q4_no_sigmoid", "q4_answer", "    torch.nn.Sigmoid(),\n", "", "q4_example1"),
    Mutant("q4_yhat_copied_from_underlying", "q4_answer", Q4_LOOP,
           "yhat = torch.tensor(df.underlying).float().reshape(-1, 1)  # looks perfect in the plot", "q4_example1"),
    # q5: example 2
    Mutant("q5_stuck_seed_43052", "q5_answer_b", "torch.manual_seed(5)", "torch.manual_seed(43052)", "q5_example2"),
    Mutant("q5_bce_on_regression", "q5_answer_b", "loss_fn = torch.nn.MSELoss()",
           "loss_fn = torch.nn.BCEWithLogitsLoss()", "q5_example2"),
    Mutant("q5_why_more_epochs", "q5_answer_c", 'q5_why = "B"', 'q5_why = "A"', "q5_example2"),
    # q6: example 3
    Mutant("q6_x1_only", "q6_answer", Q6_ARCH_AND_STEP1,
           Q6_ARCH_AND_STEP1.replace("in_features=2,", "in_features=1,").replace("net(X)", "net(X[:, [0]])"),
           "q6_example3"),
    Mutant("q6_100_epochs", "q6_answer", "for epoc in range(3000):", "for epoc in range(100):", "q6_example3"),
    # wrong answers whose fit passes every fit check: only the record of how the net was trained catches them
    Mutant("q3_mse_instead_of_bce", "q3_answer_a", "loss_fn = torch.nn.BCELoss()", "loss_fn = torch.nn.MSELoss()",
           "q3_learn_kink", says="MSELoss"),
    Mutant("q3_sgd_huge_lr", "q3_answer_a", "optimizr = torch.optim.Adam(net.parameters())",
           "optimizr = torch.optim.SGD(net.parameters(), lr=1.0)", "q3_learn_kink", says="trained with SGD"),
    Mutant("q4_mse_instead_of_bce", "q4_answer", "loss_fn = torch.nn.BCELoss()", "loss_fn = torch.nn.MSELoss()",
           "q4_example1", says="MSELoss"),
    Mutant("q6_2000_epochs", "q6_answer", "for epoc in range(3000):", "for epoc in range(2000):", "q6_example3",
           says="trained for 2000 epochs"),
    # wrong answers whose failure has a cause the checks name
    Mutant("q3_weights_zeroed", "q3_answer_a", "loss_fn = torch.nn.BCELoss()",
           "torch.nn.init.zeros_(net[0].weight)\ntorch.nn.init.zeros_(net[0].bias)\nloss_fn = torch.nn.BCELoss()",
           "q3_learn_kink", says="are all zero"),
    Mutant("q4_optimizer_on_the_last_net", "q4_answer", Q4_NET_AND_OPTIMIZER, Q4_OPTIMIZER_FIRST, "q4_example1",
           says="does not hold net's parameters"),
    Mutant("q4_sigmoid_twice", "q4_answer", "    yhat = net(x)", "    yhat = torch.sigmoid(net(x))", "q4_example1",
           says="applied twice"),
    Mutant("q6_step_forgotten", "q6_answer", "    optimizr.step()\n", "", "q6_example3",
           says="optimizer.step() never ran"),
    Mutant("q6_bce_with_logits_on_sigmoid", "q6_answer", "loss_fn = torch.nn.BCELoss()",
           "loss_fn = torch.nn.BCEWithLogitsLoss()", "q6_example3", says="applied twice"),
    Mutant("q4_left_blank", "q4_answer", Q4_NET_AND_OPTIMIZER + "\n" + Q4_LOOP,
           "# 여기에 코드를 작성하세요 (YOUR CODE HERE)\nraise NotImplementedError()", "q4_example1",
           says="not answered"),
]

# Wrong answers that must also cost later questions (a function a later question calls, as hw1's record): none
# in hw2, whose questions each train their own net.
CASCADES: list[Mutant] = []
