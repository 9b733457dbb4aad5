"""Imported first by the pool's forkserver (`poolserver`): the forkserver is killed when the command that started it
ends, however it ends (kill -9, the out-of-memory killer). Each worker dies with the forkserver (`grade._init_worker`)
and each zygote with its worker, so nothing of a pool outlives its command: multiprocessing's own forkserver waits
for every worker to go, and an idle worker waits for work forever."""

from assignkit.poolserver import die_with_parent

die_with_parent()
