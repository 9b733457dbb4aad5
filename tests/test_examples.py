"""The sample submissions `make demo` grades are what examples/make_submissions.py makes from the current
source and release notebooks."""

import importlib.util
from pathlib import Path

import pytest

from assignkit.layout import Course

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_submissions", ROOT / "examples" / "make_submissions.py")
make_submissions = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_submissions)


@pytest.mark.parametrize("homework", Course(ROOT).homeworks())
def test_sample_submissions_are_current(homework):
    course = Course(ROOT)
    for name, text in make_submissions.samples(course, homework).items():
        path = course.examples_folder(homework) / name
        assert path.is_file() and path.read_text() == text, (
            f"{path.relative_to(ROOT)} is stale: run `.venv/bin/python examples/make_submissions.py {homework}`")
