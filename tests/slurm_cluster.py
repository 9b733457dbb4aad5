"""A one-node Slurm cluster under a temporary folder, for tests: munged, slurmctld and slurmd in the foreground,
on free ports of their own (so a Slurm already running on the machine is not disturbed), stopped by the pids
started here. Needs Debian's slurm-wlm and munge, and root (SlurmUser=root)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "scontrol", "sinfo", "scancel")


class Unavailable(RuntimeError):
    """Slurm cannot run here; the message says why (the test skips with it)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(root: Path, cpus: int, memory_mb: int) -> str:
    return "\n".join([
        "ClusterName=assignkit-test",
        "SlurmctldHost=localhost",
        f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={root / 'munge.socket'}",
        f"StateSaveLocation={root / 'state'}",
        f"SlurmdSpoolDir={root / 'spool'}",
        f"SlurmctldPidFile={root / 'slurmctld.pid'}",
        f"SlurmdPidFile={root / 'slurmd.pid'}",
        f"SlurmctldLogFile={root / 'slurmctld.log'}",
        f"SlurmdLogFile={root / 'slurmd.log'}",
        f"PlugStackConfig={root / 'plugstack.conf'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "MpiDefault=none",
        "ReturnToService=2",
        "MinJobAge=600",
        f"NodeName=localhost CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN",
        "PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
    ]) + "\n"


@dataclass
class SlurmCluster:
    root: Path
    cpus: int = 2
    memory_mb: int = 4096
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """The environment a Slurm client needs to talk to this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.config)}

    def start(self, timeout: float = 30.0) -> None:
        missing = [name for name in DAEMONS + CLIENTS if shutil.which(name) is None
                   and not Path("/usr/sbin", name).exists()]
        if missing:
            raise Unavailable(f"Slurm is not installed (missing {', '.join(missing)}; "
                              "apt-get install slurm-wlm munge)")
        if os.geteuid() != 0:
            raise Unavailable("the test cluster runs its daemons as root (SlurmUser=root)")
        for folder in ("state", "spool", "munge"):
            (self.root / folder).mkdir(mode=0o700)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        (self.root / "plugstack.conf").write_text("")
        self.config.write_text(_config(self.root, self.cpus, self.memory_mb))
        self._spawn(["munged", "--foreground", "--force", f"--key-file={key}",
                     f"--socket={self.root / 'munge.socket'}", f"--pid-file={self.root / 'munge' / 'munged.pid'}",
                     f"--log-file={self.root / 'munge' / 'munged.log'}",
                     f"--seed-file={self.root / 'munge' / 'munged.seed'}"], "munged")
        self._wait_for(lambda: (self.root / "munge.socket").exists(), 10, "munged did not create its socket")
        self._spawn(["slurmctld", "-D", "-i", "-f", str(self.config)], "slurmctld")
        self._spawn(["slurmd", "-D", "-N", "localhost", "-f", str(self.config)], "slurmd")
        self._wait_for(self._idle, timeout, "the node did not come up idle")

    def _spawn(self, command: list[str], name: str) -> None:
        log = (self.root / f"{name}.out").open("wb")
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                               env=self.env, start_new_session=True))

    def _idle(self) -> bool:
        for process in self.processes:
            if process.poll() is not None:
                raise Unavailable(f"{process.args[0]} exited with {process.returncode}: {self._logs()}")
        done = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=self.env)
        return done.returncode == 0 and done.stdout.strip() == "idle"

    def _wait_for(self, ready, timeout: float, failure: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise Unavailable(f"{failure} within {timeout:g} s: {self._logs()}")
            time.sleep(0.3)

    def _logs(self) -> str:
        tails = []
        for log in sorted(self.root.glob("*.out")) + sorted(self.root.glob("*.log")):
            text = log.read_text(errors="replace").strip().splitlines()[-3:]
            if text:
                tails.append(f"[{log.name}] " + " | ".join(text))
        return " ".join(tails)[-1500:]

    def stop(self) -> None:
        """Stop the daemons started here, by their pids (slurmd and slurmctld first, munged last)."""
        for process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)
        self.processes.clear()


@contextlib.contextmanager
def running_cluster(cpus: int = 2, memory_mb: int = 4096):
    """A started SlurmCluster, stopped and removed at the end; raises Unavailable when it cannot start."""
    root = Path(tempfile.mkdtemp(prefix="ak-slurm-"))
    root.chmod(0o755)
    cluster = SlurmCluster(root, cpus, memory_mb)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
