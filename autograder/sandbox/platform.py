"""What this machine lets the sandbox do: the one seam that tests replace.

Every platform question the sandbox asks goes through here. Tests play other machines on
Linux by setting AUTOGRADER_SIMULATE (comma-separated; it reaches the jail too):

    macos           no /proc-style process tree of our own, RLIMIT_AS refused (EINVAL),
                    no prctl (no subreaper), no namespaces, no bubblewrap
    windows         native Windows: grading refuses to start, building and the handout work
    no-namespaces   the kernel refuses unprivileged (or all) namespaces, as Ubuntu 24.04's
                    AppArmor rule or a container without CAP_SYS_ADMIN does
    no-bwrap        bubblewrap is not installed
"""
import os
import shutil
import sys

ENV = "AUTOGRADER_SIMULATE"
KNOWN = ("macos", "windows", "no-namespaces", "no-bwrap")
SANDBOX_EXEC = "/usr/bin/sandbox-exec"


def simulated():
    """The simulated traits in force, checked: an unknown one is a mistake in a test."""
    traits = {t.strip() for t in os.environ.get(ENV, "").split(",") if t.strip()}
    unknown = traits - set(KNOWN)
    if unknown:
        raise ValueError(f"{ENV}: unknown traits {sorted(unknown)}; known: {', '.join(KNOWN)}")
    return traits


def system():
    """'linux', 'macos' or 'windows'."""
    traits = simulated()
    if "windows" in traits or os.name == "nt":
        return "windows"
    if "macos" in traits or sys.platform == "darwin":
        return "macos"
    return "linux"


def is_root():
    return system() != "windows" and os.geteuid() == 0


def namespaces_possible():
    """Whether to try Linux namespaces at all (the jail finds out whether the kernel allows them,
    and plays a refusal under no-namespaces)."""
    return system() == "linux"


def bubblewrap():
    """The path of bwrap, where it is installed (Linux only)."""
    if system() != "linux" or "no-bwrap" in simulated():
        return None
    return shutil.which("bwrap")


def sandbox_exec():
    """macOS's sandbox-exec, where it is there."""
    if system() == "macos" and os.path.exists(SANDBOX_EXEC):
        return SANDBOX_EXEC
    return None


def subreaper_possible():
    """PR_SET_CHILD_SUBREAPER is Linux's; macOS has no prctl."""
    return system() == "linux"


class MachineError(Exception):
    """Student code cannot be run on this machine as configured: the message says why and what to do."""


WSL_HINT = ("native Windows cannot confine student code (no fork, no resource limits, no process groups "
            "the grader can kill): grade in WSL2 instead (`wsl --install`, then run the same command in "
            "its Linux shell). `build`, `check` and the student handout work on Windows.")
