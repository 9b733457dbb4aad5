"""`assignkit data` and the homeworks' generators (autograder/<hw>/data.py): fidelity to the lecture's files,
seeding, reproducible writes, and the generator interface."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from assignkit import data
from assignkit.layout import Course

ROOT = Path(__file__).resolve().parents[1]
HW1 = data.load_generator(Course(ROOT), "hw1_loss_comparison")
HW2 = data.load_generator(Course(ROOT), "hw2_dnn")
SEED = HW2.PUBLISHED_SEED
ROWS = [0, 1, 599, 799, 800, 999, 1000, 1234, 1599, 1600, 1999]  # ends, middle, and both sides of the kinks

# Values read off the lecture's 2022-10-04-dnnex*.csv at the rows ROWS.
LECTURE_X = [-1.0, -0.9989994997498749, -0.40070035017508754, -0.20060030015007513, -0.19959979989995003,
             -0.0005002501250626068, 0.0005002501250623848, 0.23461730865432706, 0.599799899949975,
             0.6008004002001, 1.0]
LECTURE = {
    "dnnex0": {
        "x": LECTURE_X,
        "underlying": [4.5397872e-05, 4.6084304e-05, 0.26688102, 0.8798485, 0.8814259, 0.99325705, 0.9932904,
                       0.97868747, 0.88090205, 0.8803763, 0.5],
    },
    "dnnex1": {
        "x": LECTURE_X,
        "underlying": [0.9998766, 0.9998747, 0.5026263, 0.047834333, 0.9998766, 0.9998766, 0.9998766,
                       0.9998766, 0.9998766, 0.00012339458, 0.00012339458],
    },
    "dnnex2": {
        "x": [-1.0, -0.9989995, -0.4007003, -0.20060028, -0.19959977, -0.00050021615, 0.00050021615,
              0.23461728, 0.5997999, 0.6008004, 1.0],
        "underlying": [14.791438, 14.756562, 6.374839, 10.077415, 10.093582, 11.501986, 11.497984, 7.600034,
                       -0.25356817, -0.25925636, 5.3898287],
        "y": [14.486265, 14.8326, 6.666755, 9.893538, 10.370534, 11.449781, 12.228884, 7.375416,
              -0.028733894, -0.6235428, 5.46673],
    },
    "dnnex3": {
        "x1": [-0.8741391331685717, -1.1436218311307962, 0.142543316844304, -0.8792943313006413,
               0.7098244096140672, 0.4118286024950414, -1.7333670295159425, 0.049161780482581574,
               0.06731092279674583, 0.6942929221288886, -0.41685864098108916],
        "x2": [0.21003536727487, -0.8357281547010386, 2.934790694020781, -1.572449566283761,
               0.049401419508125044, -0.48566093401625243, -1.004724262164366, -0.9015601690496167,
               -0.6988681330257622, -0.31309288260850243, 0.06790719274253379],
    },
}
TOLERANCE = {"dnnex0": 1e-6, "dnnex1": 1e-6, "dnnex2": 1e-5, "dnnex3": 1e-12}

COLUMNS = {
    "hw1_toy": ["x", "underlying", "y"],
    "dnnex0": ["x", "underlying", "y"],
    "dnnex1": ["x", "underlying", "y"],
    "dnnex2": ["x", "underlying", "y"],
    "dnnex3": ["x1", "x2", "y"],
}
BERNOULLI = ["hw1_toy", "dnnex0", "dnnex1", "dnnex3"]

EXPECTED_FILES = sorted([
    "data/hw1_toy.csv", "data/dnnex0.csv", "data/dnnex1.csv", "data/dnnex2.csv", "data/dnnex3.csv",
    "autograder/hw1_loss_comparison/loss_inputs.json",
    "autograder/hw2_dnn/dnnex0_hidden.csv", "autograder/hw2_dnn/dnnex1_hidden.csv",
    "autograder/hw2_dnn/dnnex2_hidden.csv", "autograder/hw2_dnn/dnnex3_hidden.csv",
    "autograder/hw2_dnn/dnnex3_grid.csv",
])


def generate(name, seed=SEED):
    return getattr(HW1 if name == "hw1_toy" else HW2, name)(seed)


def underlying_of(frame):
    if "underlying" in frame:
        return frame["underlying"].to_numpy()
    return HW2.dnnex3_probability(frame["x1"], frame["x2"])


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    return root, data.write_all(ROOT, out=root)


@pytest.mark.parametrize("name", COLUMNS)
def test_rows_and_columns(name):
    frame = generate(name)
    assert list(frame.columns) == COLUMNS[name]
    assert len(frame) == 2000


@pytest.mark.parametrize("name", LECTURE)
def test_matches_the_lecture(name):
    frame = generate(name)
    for column, expected in LECTURE[name].items():
        np.testing.assert_allclose(frame[column].to_numpy()[ROWS], expected, rtol=0, atol=TOLERANCE[name],
                                   err_msg=f"{name}.{column}")


def test_hw1_toy_is_the_lecture_recipe():
    frame = generate("hw1_toy")
    x = torch.linspace(-1, 1, 2000)
    np.testing.assert_array_equal(frame["x"], x.numpy())
    np.testing.assert_allclose(frame["underlying"], 1 / (1 + np.exp(1 - 5 * x.double().numpy())), atol=1e-6)
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        y = torch.bernoulli(torch.sigmoid(-1 + 5 * x.reshape(2000, 1)))
    np.testing.assert_array_equal(frame["y"], y.numpy().ravel())


@pytest.mark.parametrize("name", COLUMNS)
def test_same_seed_same_frame_other_seed_other_y(name):
    pd.testing.assert_frame_equal(generate(name, 7), generate(name, 7))
    assert not np.array_equal(generate(name, 7)["y"], generate(name, 8)["y"])


def test_generators_leave_global_random_state_alone():
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    for name in COLUMNS:
        generate(name)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state))


@pytest.mark.parametrize("name", BERNOULLI)
def test_bernoulli_mean_follows_underlying(name):
    frame = generate(name)
    assert set(np.unique(frame["y"])) == {0.0, 1.0}
    assert abs(frame["y"].mean() - underlying_of(frame).mean()) < 0.05


def test_dnnex2_noise_has_sd_half():
    noise = generate("dnnex2")["y"] - generate("dnnex2")["underlying"]
    assert abs(noise.mean()) < 0.05
    assert abs(noise.std() - 0.5) < 0.05


def test_dnnex3_probability_pieces():
    x1 = np.array([-1.0, 0.3, 1.0, 1.0])
    x2 = np.array([0.0, 9.0, 2.0, 0.0])
    u = np.array([0.0, 0.0, -0.5 - 20 + 5, 1 - 2])
    np.testing.assert_allclose(HW2.dnnex3_probability(x1, x2), 1 / (1 + np.exp(-u)))


def test_dnnex3_grid():
    grid = HW2.dnnex3_grid(n=11, limit=3.5)
    assert list(grid.columns) == ["x1", "x2", "prob"]
    assert len(grid) == 121
    assert grid["x1"].min() == -3.5 and grid["x2"].max() == 3.5
    np.testing.assert_array_equal(grid["prob"], HW2.dnnex3_probability(grid["x1"], grid["x2"]))


def test_loss_inputs():
    calls = HW1.loss_inputs()
    assert calls == HW1.loss_inputs()
    assert json.loads(json.dumps(calls)) == calls
    sizes = set()
    for yhat, y in calls:
        yhat, y = np.array(yhat), np.array(y)
        assert yhat.ndim == 2 and yhat.shape[1] == 1 and yhat.shape == y.shape
        assert ((yhat > 0) & (yhat < 1)).all()
        assert set(np.unique(y)) <= {0.0, 1.0}
        sizes.add(len(y))
    assert {1, 7, 50} <= sizes
    yhat = np.concatenate([np.array(call[0]).ravel() for call in calls])
    assert yhat.min() <= 1e-4 and yhat.max() >= 1 - 1e-4
    assert ((yhat > 0.1) & (yhat < 0.9)).sum() > 20


def test_write_all_writes_every_file(written):
    root, paths = written
    assert sorted(p.relative_to(root).as_posix() for p in paths) == EXPECTED_FILES
    assert all(p.is_file() for p in paths)
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_write_all_is_byte_reproducible(written, tmp_path):
    root, paths = written
    again = data.write_all(ROOT, out=tmp_path)
    assert [p.relative_to(tmp_path) for p in again] == [p.relative_to(root) for p in paths]
    for first, second in zip(paths, again):
        assert first.read_bytes() == second.read_bytes(), first.name


@pytest.mark.parametrize("name", LECTURE)
def test_published_csv_holds_the_generated_values(written, name):
    root, _ = written
    back = pd.read_csv(root / "data" / f"{name}.csv")
    frame = generate(name)
    assert list(back.columns) == list(frame.columns)
    for column in frame:
        np.testing.assert_array_equal(back[column].astype(frame[column].dtype), frame[column], err_msg=column)


def test_hidden_draws_differ_from_published(written):
    root, _ = written
    for name in LECTURE:
        published = pd.read_csv(root / "data" / f"{name}.csv")
        hidden = pd.read_csv(root / "autograder" / "hw2_dnn" / f"{name}_hidden.csv")
        assert list(hidden.columns) == list(published.columns) and len(hidden) == 2000
        assert not np.array_equal(hidden["y"], published["y"]), name
        if name == "dnnex3":
            assert not np.array_equal(hidden["x1"], published["x1"])
        else:
            np.testing.assert_array_equal(hidden["x"], published["x"])
            np.testing.assert_array_equal(hidden["underlying"], published["underlying"])
    loss_inputs = json.loads((root / "autograder/hw1_loss_comparison/loss_inputs.json").read_text())
    assert loss_inputs == HW1.loss_inputs()


def test_an_interrupted_write_all_keeps_the_old_files(tmp_path, monkeypatch):
    paths = data.write_all(ROOT, out=tmp_path)
    for path in paths:
        path.write_text("old\n")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        data.write_all(ROOT, out=tmp_path)
    assert all(path.read_text() == "old\n" for path in paths)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(paths)


# ---------------------------------------------------------------- the generator interface, on made-up homeworks

def _course_with(tmp_path, generators: dict[str, str]) -> Course:
    course = Course(tmp_path / "course")
    for homework, code in generators.items():
        course.source_notebook(homework).parent.mkdir(parents=True)
        course.source_notebook(homework).write_text("{}")
        course.autograder_folder(homework).mkdir(parents=True)
        if code is not None:
            (course.autograder_folder(homework) / "data.py").write_text(code)
    return course


WRITES_A = """
from assignkit.data import write_csv, write_json
import pandas as pd

def write(data_dir, hidden_dir):
    return [write_csv(data_dir / "a.csv", pd.DataFrame({"x": [1.5, 2.0]})),
            write_json(hidden_dir / "a_hidden.json", {"b": 1, "a": [0.25]})]
"""


def test_write_all_runs_each_homework_generator_and_skips_homeworks_without_one(tmp_path):
    course = _course_with(tmp_path, {"hw_a": WRITES_A, "hw_none": None})
    paths = data.write_all(course.root)
    assert paths == [course.data_dir / "a.csv", course.autograder_folder("hw_a") / "a_hidden.json"]
    assert (course.data_dir / "a.csv").read_text() == "x\n1.5\n2.0\n"
    assert (course.autograder_folder("hw_a") / "a_hidden.json").read_text() == '{"a": [0.25], "b": 1}\n'


def test_a_generator_without_write_is_an_error_naming_the_file(tmp_path):
    course = _course_with(tmp_path, {"hw_a": "X = 1\n"})
    with pytest.raises(data.GeneratorError, match=r"hw_a/data.py: defines no function write"):
        data.write_all(course.root)


def test_a_generator_that_fails_to_import_is_an_error_naming_the_file(tmp_path):
    course = _course_with(tmp_path, {"hw_a": "import no_such_module_here\n"})
    with pytest.raises(data.GeneratorError, match=r"hw_a/data.py: cannot be imported \(ModuleNotFoundError"):
        data.write_all(course.root)


def test_a_generator_must_write_what_it_returns_inside_its_two_folders(tmp_path):
    course = _course_with(tmp_path, {"hw_a": "def write(d, h):\n    return [d / 'never.csv']\n"})
    with pytest.raises(data.GeneratorError, match=r"returned .*never.csv, which it did not write"):
        data.write_all(course.root)
    course = _course_with(tmp_path / "2", {"hw_a": "def write(d, h):\n    p = d.parent / 'x.csv'\n"
                                                   "    p.write_text('x')\n    return [p]\n"})
    with pytest.raises(data.GeneratorError, match=r"wrote .*x.csv, outside"):
        data.write_all(course.root)


def test_two_homeworks_writing_the_same_file_is_an_error(tmp_path):
    course = _course_with(tmp_path, {"hw_a": WRITES_A, "hw_b": WRITES_A.replace("a_hidden", "b_hidden")})
    with pytest.raises(data.GeneratorError, match=r"a.csv is written by the generators of both hw_a and hw_b"):
        data.write_all(course.root)
