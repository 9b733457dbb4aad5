"""How long a child of a warm interpreter takes from fork to the first executed cell, two ways (docs/fork.md):

- kernel: the child starts an ipykernel (IPKernelApp on a fresh connection file) and the grader talks the Jupyter
  protocol to it (jupyter_client), as nbclient would;
- shell: the child makes an IPython InteractiveShell with the inline matplotlib backend and runs the cell itself
  (what forkexec.py does).

Also, for scale, a fresh kernel (the kernel executor's start) running the same first cell. No sandbox in any of
them: this is the cost of the protocol alone. Prints medians of N runs and the load average.
Usage: python benchmarks/fork_child_start.py [N]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

CELL = "import torch\nnet = torch.nn.Linear(2, 1)\nfloat(net(torch.ones(1, 2)).sum())"


def warm_process(kind: str, runs: int, folder: Path, report_fd: int) -> None:
    """Warm up, then fork one child per run; write the fork time of each to `report_fd`."""
    from assignkit.forkexec import warm_up

    warm_up()
    if kind == "kernel":
        import ipykernel.kernelapp  # noqa: F401
    for run in range(runs):
        forked = time.perf_counter()
        child = os.fork()
        if child == 0:
            if kind == "kernel":
                from ipykernel.kernelapp import IPKernelApp

                app = IPKernelApp.instance(connection_file=str(folder / f"kernel-{run}.json"), quiet=True)
                app.initialize([])
                app.start()
            else:
                from assignkit.forkexec import _make_shell

                read, write = os.pipe()
                shell = _make_shell(write)
                shell.run_cell(CELL)
                os.write(report_fd, json.dumps({"run": run, "done": time.perf_counter()}).encode() + b"\n")
            os._exit(0)
        os.write(report_fd, json.dumps({"run": run, "forked": forked}).encode() + b"\n")
        os.waitpid(child, 0)
    os._exit(0)


def measure_forked(kind: str, runs: int) -> list[float]:
    folder = Path(tempfile.mkdtemp())
    read, write = os.pipe()
    warm = os.fork()
    if warm == 0:
        os.close(read)
        warm_process(kind, runs, folder, write)
    os.close(write)
    lines = os.fdopen(read)
    times = []
    for run in range(runs):
        forked = json.loads(lines.readline())["forked"]
        if kind == "kernel":
            from jupyter_client import BlockingKernelClient

            connection = folder / f"kernel-{run}.json"
            while not connection.exists() or not connection.stat().st_size:
                time.sleep(0.005)
            client = BlockingKernelClient(connection_file=str(connection))
            client.load_connection_file()
            client.start_channels()
            client.wait_for_ready(timeout=60)
            client.execute_interactive(CELL, timeout=60, output_hook=lambda msg: None)
            times.append(time.perf_counter() - forked)
            client.shutdown()
            client.stop_channels()
        else:
            times.append(json.loads(lines.readline())["done"] - forked)
    os.waitpid(warm, 0)
    return times


def measure_fresh_kernel(runs: int) -> list[float]:
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        manager, client = start_new_kernel(kernel_name="python3")
        client.execute_interactive(CELL, timeout=120, output_hook=lambda msg: None)
        times.append(time.perf_counter() - started)
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"load average before: {open('/proc/loadavg').read().split()[:3]}")
    figures = {"fork + InteractiveShell": measure_forked("shell", runs),
               "fork + ipykernel (Jupyter protocol)": measure_forked("kernel", runs),
               "fresh kernel (no fork)": measure_fresh_kernel(runs)}
    base = statistics.median(figures["fork + InteractiveShell"])
    for name, times in figures.items():
        median = statistics.median(times)
        print(f"{name:38} median {median:6.3f} s  (min {min(times):.3f}, max {max(times):.3f}, n={runs})  "
              f"{median / base:5.1f}x")
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
