"""Importing this module warms the interpreter for the fork executor (`forkexec.warm_up`). It exists to be named in
the forkserver's preload list (`poolserver`), which can only import modules."""

from assignkit.forkexec import warm_up

warm_up()
