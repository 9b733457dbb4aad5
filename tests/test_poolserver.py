"""The pool's forkserver imports the executor's preload before it forks a worker: a worker of the fork executor's
pool starts with torch's lazy parts (torch._dynamo, imported by the first optimizer step) already imported."""

import subprocess
import sys

import pytest

from assignkit.poolserver import WARM_STACK

# A fresh interpreter each time: a forkserver keeps the preload it started with, and this test process may
# already have one.
WORKER_HAS = """
import sys
from assignkit import poolserver

if __name__ == "__main__":
    with poolserver.context(tuple(sys.argv[2:])).Pool(1) as pool:
        print(pool.apply(eval, (f"{sys.argv[1]!r} in __import__('sys').modules",)))
"""


def _worker_has(module: str, preload: list[str]) -> bool:
    ran = subprocess.run([sys.executable, "-c", WORKER_HAS, module, *preload], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip() == "True"


@pytest.mark.skipif(sys.platform != "linux", reason="the fork executor's warm stack is Linux only")
def test_a_worker_of_the_warm_forkserver_starts_warm():
    assert _worker_has("torch._dynamo", [WARM_STACK])
    assert _worker_has("pandas", [WARM_STACK])


def test_without_preload_a_worker_has_only_the_grader():
    assert _worker_has("assignkit.grade", [])
    assert not _worker_has("torch._dynamo", [])
