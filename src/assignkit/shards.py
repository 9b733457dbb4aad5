"""Splitting a class into N shards: shard K of N grades the students whose id hashes to K.

The hash is sha256 of the student id, so a student's shard is the same on every machine, for every order of the
arguments and every Python. Each shard writes `shards/<K>of<N>.json`, the students it was given, so merge
knows who is expected.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from assignkit.fileio import atomic_write_text


class ShardError(ValueError):
    pass


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @staticmethod
    def parse(text: str) -> "Shard":
        """`K/N` with 1 <= K <= N."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ShardError(f"--shard {text!r}: expected K/N, for example 2/4")
        index, count = int(match[1]), int(match[2])
        if not 1 <= index <= count:
            raise ShardError(f"--shard {text!r}: K must be between 1 and N")
        return Shard(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, student: str) -> bool:
        return shard_of(student, self.count) == self.index

    def manifest_path(self, out_dir: Path) -> Path:
        return manifests_folder(out_dir) / f"{self.index}of{self.count}.json"


def shard_of(student: str, count: int) -> int:
    """The 1-based shard of `student` among `count`."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def manifests_folder(out_dir: Path) -> Path:
    return out_dir / "shards"


@dataclass(frozen=True)
class Manifest:
    homework: str
    shard: str  # "K/N"
    students: tuple[str, ...]

    def write(self, path: Path) -> None:
        atomic_write_text(path, json.dumps({"homework": self.homework, "shard": self.shard,
                                            "students": list(self.students)}, ensure_ascii=False, indent=1))

    @staticmethod
    def read(path: Path) -> "Manifest":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Manifest(str(data["homework"]), str(data["shard"]), tuple(str(s) for s in data["students"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ShardError(f"{path}: not a shard manifest ({error})") from None
