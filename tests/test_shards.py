"""Shards are a partition of the students, stable across argument order, machines and Python processes."""

import subprocess
import sys

import pytest

from assignkit.shards import Manifest, Shard, ShardError, shard_of

STUDENTS = [f"s{i:04d}" for i in range(1000)] + ["김민수", "lee, jay", "=cmd", ""]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16])
def test_every_student_is_in_exactly_one_shard(count):
    shards = [Shard(k, count) for k in range(1, count + 1)]
    for student in STUDENTS:
        assert sum(shard.holds(student) for shard in shards) == 1, student
    sizes = [sum(shard.holds(s) for s in STUDENTS) for shard in shards]
    assert sum(sizes) == len(STUDENTS)
    assert min(sizes) > len(STUDENTS) / count * 0.8  # a hash spreads ids evenly enough to share the work


def test_shard_is_stable_across_processes_and_order():
    # sha256, not hash(): another interpreter with another PYTHONHASHSEED gives the same shards.
    code = "from assignkit.shards import shard_of; print([shard_of(s, 5) for s in %r])" % STUDENTS[:50]
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345"})
    assert other.stdout.strip() == str([shard_of(s, 5) for s in STUDENTS[:50]])
    assert [shard_of(s, 5) for s in reversed(STUDENTS)] == [shard_of(s, 5) for s in STUDENTS][::-1]
    assert [shard_of(s, 4) for s in ("kim", "lee", "park", "choi")] == [1, 4, 1, 1]  # fixed forever: first 8 bytes of sha256, mod N, plus 1


@pytest.mark.parametrize("text, shard", [("1/1", Shard(1, 1)), ("2/4", Shard(2, 4)), (" 4 / 4 ", Shard(4, 4))])
def test_parse(text, shard):
    assert Shard.parse(text) == shard and str(shard) == text.replace(" ", "")


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", "-1/2", ""])
def test_parse_refuses(text):
    with pytest.raises(ShardError, match="--shard"):
        Shard.parse(text)


def test_manifest_round_trip(tmp_path):
    manifest = Manifest("hw1", "2/3", ("kim", "김민수"))
    path = Shard(2, 3).manifest_path(tmp_path)
    manifest.write(path)
    assert path == tmp_path / "shards" / "2of3.json"
    assert Manifest.read(path) == manifest
    path.write_text("{}")
    with pytest.raises(ShardError, match="2of3.json: not a shard manifest"):
        Manifest.read(path)


def test_grade_refuses_a_bad_shard_before_grading(tmp_path):
    from click.testing import CliRunner

    from assignkit.cli import main

    result = CliRunner().invoke(main, ["grade", "tiny", str(tmp_path), "--out", str(tmp_path / "out"),
                                       "--shard", "3/2"])
    assert result.exit_code == 2 and "K must be between 1 and N" in result.output
    assert not (tmp_path / "out").exists()
