"""The jail: the first process on the untrusted side. It confines itself, says how, then runs the worker.

`boundary.Worker` starts it from the sandbox folder, as `python -I -S -c BOOT SPEC_JSON`
(copied there with the worker's modules; standard library only). In order:

1. Resource limits, each on its own: one the kernel refuses (macOS refuses RLIMIT_AS) is
   reported, and the grader enforces it from outside instead.
2. On Linux, namespaces: a new mount, pid, network, IPC and UTS namespace (and, when not
   root, a user namespace that maps only our own uid). The new root is a tmpfs holding
   only the interpreter, the system libraries, numpy (read-only) and the sandbox folder
   (read-write); the grader's checkout, the reference and the user's home are not there.
   A refusal (a container without CAP_SYS_ADMIN, Ubuntu 24.04's AppArmor rule) is reported,
   and bubblewrap is tried where it is installed, then nothing.
   On macOS, sandbox-exec with a profile that denies the network and the grader's files.
3. One frame to the grader: {"jail": what is in force and what is not, and why}.
4. The worker: in a pid namespace as pid 2 under a small init (pid 1), which the kernel
   kills with every process the student started; as root, after dropping to the sandbox
   uid with no groups and no new privileges.
"""
import ctypes
import json
import os
import resource
import signal
import sys

from .frames import send

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 1024, 2048, 4096, 16384, 1 << 18, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "i686": 217, "i386": 217, "armv7l": 218, "riscv64": 41,
              "ppc64le": 203, "s390x": 217}
KEPT_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
              (1024, MS_NOATIME), (2048, MS_NODIRATIME), (4096, MS_RELATIME)) if hasattr(os, "ST_NOSUID") else ()


class Refused(Exception):
    """The kernel refused a step of confinement: what, and why."""


def libc():
    return ctypes.CDLL(None, use_errno=True)


def call(what, result):
    if result != 0:
        code = ctypes.get_errno()
        raise Refused(f"{what}: {os.strerror(code)} ({errno_name(code)})")


def errno_name(code):
    import errno
    return errno.errorcode.get(code, str(code))


# ---- 1. limits -----------------------------------------------------------------------

def apply_limits(limits, simulate):
    """Each limit on its own; {name: None if in force, else why not}."""
    found = {}
    for name, value in limits.items():
        try:
            if name == "RLIMIT_AS" and "macos" in simulate:
                raise ValueError("current limit exceeds maximum limit (EINVAL, as on macOS)")
            resource.setrlimit(getattr(resource, name), tuple(value))
            found[name] = None
        except (ValueError, OSError, AttributeError) as exc:
            found[name] = str(exc) or type(exc).__name__
    return found


# ---- 2. namespaces and the new root -------------------------------------------------------

def enter_namespaces(root_user, simulate):
    if "no-namespaces" in simulate:
        raise Refused("unshare: Operation not permitted (EPERM, simulated)")
    c = libc()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    uid, gid = os.getuid(), os.getgid()
    if not root_user:
        flags |= CLONE_NEWUSER
    call("unshare", c.unshare(flags))
    if not root_user:  # map our own uid and gid only: inside, we are who we were
        write("/proc/self/setgroups", "deny")
        write("/proc/self/uid_map", f"{uid} {uid} 1")
        write("/proc/self/gid_map", f"{gid} {gid} 1")


def write(path, text):
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as exc:
        raise Refused(f"writing {path}: {exc.strerror}") from None


def mount(source, target, fstype, flags, data=None):
    enc = (lambda s: s.encode() if isinstance(s, str) else s)
    call(f"mount {target}", libc().mount(enc(source), enc(target), enc(fstype), flags, enc(data)))


def read_only(target):
    """Remounts a bind read-only, keeping the flags the kernel locked on the original mount."""
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY
    have = os.statvfs(target).f_flag
    for st, ms in KEPT_FLAGS:
        if have & st:
            flags |= ms
    mount(None, target, None, flags)


def build_root(spec):
    """The new root: a tmpfs with the binds in it and this pid namespace's /proc, pivoted into;
    the old root detached. Runs as pid 1 of the new pid namespace: a user namespace may mount
    a proc only while the old one is still in view. (The dynamic loader needs /proc/self/exe
    to find libpython by $ORIGIN, as conda's and relocated interpreters do.)"""
    root = spec["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4m")
    os.mkdir(os.path.join(root, "proc"))
    mount("proc", os.path.join(root, "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for path, how in spec["binds"]:
        target = root + path
        if os.path.islink(path) and os.path.dirname(path) == "/":  # /lib -> usr/lib on merged-usr systems
            os.symlink(os.readlink(path), target)
            continue
        if not os.path.exists(path):
            continue
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        mount(path, target, None, MS_BIND | (0 if how == "folder" else MS_REC))
        if how == "ro":
            read_only(target)
    for path in spec["hide"]:
        if os.path.isdir(root + path):
            mount("tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=0,mode=000")
    old = os.path.join(root, ".old")
    os.mkdir(old)
    number = PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise Refused(f"pivot_root: no syscall number known for {os.uname().machine}")
    call("pivot_root", libc().syscall(number, root.encode(), old.encode()))
    os.chdir("/")
    call("umount /.old", libc().umount2(b"/.old", MNT_DETACH))
    os.rmdir("/.old")
    mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(spec["folder"])


# ---- 4. the worker -------------------------------------------------------------------------

def become_student(spec):
    """As root: the sandbox uid, no groups; no new privileges (but for bubblewrap, which may need its
    own setuid bit or AppArmor profile to make namespaces, and sets it for the worker itself)."""
    if spec["identity"]:
        uid, gid = spec["identity"]
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    if sys.platform.startswith("linux") and spec["argv"][0] != spec.get("bwrap"):
        libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def unreachable(paths):
    """The first folder on the way to one of `paths` that this process cannot enter, with its mode."""
    for path in paths:
        parts = os.path.abspath(path).split(os.sep)
        for i in range(2, len(parts) + 1):
            folder = os.sep.join(parts[:i]) or os.sep
            if os.path.isdir(folder) and not os.access(folder, os.X_OK):
                return folder, oct(os.stat(folder).st_mode & 0o777)
    return None


def run_worker(spec, fds):
    """Becomes the worker (exec), or sends why it cannot."""
    become_student(spec)
    blocked = unreachable(spec["needs"])
    if blocked:
        folder, mode = blocked
        send(fds[1], {"fatal": "cannot enter", "folder": folder, "mode": mode})
        os._exit(0)
    try:
        os.execv(spec["argv"][0], spec["argv"])
    except OSError as exc:
        send(fds[1], {"fatal": "cannot run", "program": spec["argv"][0], "error": exc.strerror})
        os._exit(0)


def init(spec, fds, report):
    """pid 1 of the new pid namespace: builds the new root, reports, starts the worker, reaps every
    orphan, and ends with the worker's status."""
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the grader killed the jail: end everything
    try:
        build_root(spec)
    except (Refused, OSError) as exc:
        report["isolation"] = "namespaces without a reduced file system"
        report["refused"].append(f"the reduced file system: {exc}")
    send(fds[1], {"jail": report})
    worker = os.fork()
    if worker == 0:
        run_worker(spec, fds)
    for fd in fds:
        os.close(fd)
    while True:
        pid, status = os.wait()
        if pid == worker:
            os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def end_like(status):
    """Ends this process the way the worker ended, so the grader reads the worker's fate (-SIGXCPU, ...)."""
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    if code > 128:
        signal.signal(code - 128, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.kill(os.getpid(), code - 128)
    os._exit(code)


# ---- the jail's own run ----------------------------------------------------------------------

def sandbox_exec_argv(spec):
    profile = spec["macos_profile"]
    return [spec["sandbox_exec"], "-p", profile] + spec["argv"]


def bwrap_argv(spec):
    # No --die-with-parent: it follows the grader's thread that started the jail (a worker starts in the
    # background), not the grader; the grader kills the whole tree itself.
    argv = [spec["bwrap"], "--unshare-all", "--new-session", "--cap-drop", "ALL", "--proc", "/proc"]
    for path, how in spec["binds"]:
        if os.path.exists(path):
            argv += [{"ro": "--ro-bind", "dev": "--dev-bind"}.get(how, "--bind"), path, path]
    for path in spec["hide"]:
        argv += ["--tmpfs", path]
    return argv + ["--chdir", spec["folder"], "--"] + spec["argv"]


def main():
    spec = json.loads(sys.argv[1])
    fds, simulate = spec["fds"], set(spec["simulate"])
    report = {"limits": apply_limits(spec["limits"], simulate), "isolation": None, "refused": []}
    if spec["namespaces"]:
        try:
            enter_namespaces(spec["root_user"], simulate)
            report["isolation"] = "namespaces"
        except (Refused, OSError) as exc:
            report["refused"].append(f"Linux namespaces: {exc}")
    if report["isolation"] is None:
        if spec.get("bwrap") and not spec["root_user"]:
            report["isolation"], spec = "bubblewrap", {**spec, "argv": bwrap_argv(spec)}
        elif spec.get("sandbox_exec"):
            report["isolation"], spec = "sandbox-exec", {**spec, "argv": sandbox_exec_argv(spec)}
        send(fds[1], {"jail": report})
        run_worker(spec, fds)
    jail = os.fork()  # the first child is pid 1 of the new pid namespace
    if jail == 0:
        init(spec, fds, report)
    for fd in fds:
        os.close(fd)
    end_like(os.waitpid(jail, 0)[1])
