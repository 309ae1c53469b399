"""Processes: the one module that finds, stops and kills them (on psutil, on every platform).

The sandbox kills a worker with everything the student's code started; batch stops a
grader with its worker. Both go through `kill_until_gone`, which repeats because a fork
bomb keeps forking while it is being killed.
"""
import os
import signal
import time

import psutil

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Orphans of the submission (double forks, setsid) are re-parented to us, so we can find them.

    Linux only; returns whether it is in force.
    """
    from . import platform
    if not platform.subreaper_possible():
        return False
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def alive(process):
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def tree(pid):
    """pid and its descendants (alive), as a set of pids; empty when pid is gone."""
    try:
        root = psutil.Process(pid)
        found = [root] + root.children(recursive=True)
    except psutil.Error:
        return set()
    return {p.pid for p in found if alive(p)}


def descendants(pid):
    return tree(pid) - {pid}


def my_children():
    """Our own children (as a subreaper, orphans of what we started are among them)."""
    me = psutil.Process()
    return {p.pid for p in me.children(recursive=True) if alive(p)}


def owned_by(uid):
    """Every live process of a user (as root: the sandbox uid, which no other submission shares)."""
    found = set()
    for p in psutil.process_iter(["uids"]):
        try:
            if p.info["uids"] and p.info["uids"].real == uid and alive(p):
                found.add(p.pid)
        except psutil.Error:
            continue
    return found


def working_in(folder):
    """Every live process whose working directory is `folder` or inside it."""
    found = set()
    for p in psutil.process_iter():
        try:
            cwd = p.cwd()
        except (psutil.Error, OSError):
            continue
        if (cwd == folder or cwd.startswith(folder + os.sep)) and alive(p):
            found.add(p.pid)
    return found


def resident_bytes(pids):
    """The resident memory of these processes together."""
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.Error:
            continue
    return total


def marked(name, value):
    """Every live process whose environment has name=value (a daemon keeps its parent's environment)."""
    found = set()
    for p in psutil.process_iter():
        try:
            if p.environ().get(name) == value and alive(p):
                found.add(p.pid)
        except (psutil.Error, OSError):
            continue
    return found


def kill(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def reap_children():
    """Collects our exited children, so they are not left as zombies."""
    if not hasattr(os, "waitpid") or not hasattr(os, "WNOHANG"):
        return
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_until_gone(find, rounds=20, pause=0.0):
    """SIGKILLs what `find()` returns (never us), round after round, until it returns nothing."""
    me = os.getpid()
    for _ in range(rounds):
        victims = find() - {me}
        if not victims:
            return True
        kill(victims)
        reap_children()
        if pause:
            time.sleep(pause)
    return not (find() - {me})


def stop_tree(pid, rounds=50):
    """Stops `pid` first (so nothing under it is re-parented away), kills its descendants, then it."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return
    except (AttributeError, PermissionError):
        pass
    kill_until_gone(lambda: descendants(pid), rounds=rounds, pause=0.01)
    kill([pid])
