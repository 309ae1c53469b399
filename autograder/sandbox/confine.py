"""How student code is confined on this machine: what the jail is asked to do, and what it measured.

`plan` makes the jail's spec (sandbox/jail.py): the limits, whom to run as, what the reduced
file system holds. `Protections` is what was in force for one grading, built from the
jail's report and from the probe the worker runs before it imports the student's file
(can it reach the network, read the grader's checkout or the user's home, signal the
grader?), so a protection is reported in force only when it was seen to hold.
"""
import os
import sys
import sysconfig
from dataclasses import dataclass

import numpy

from ..config import ROOT
from . import platform

UNIQUE_UID_BASE = 200000  # uids with no account, one per grader process, for batch grading as root
NOBODY = 65534
SYSTEM_LIBRARIES = ("/lib", "/lib64", "/lib32", "/libx32", "/usr/lib", "/usr/lib64", "/usr/lib32",
                    "/etc/ld.so.cache")
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int


# ---- whom student code runs as ----------------------------------------------------------

def uid_mapped(uid):
    """Whether `uid` exists in this user namespace (a rootless container maps only a few)."""
    try:
        with open("/proc/self/uid_map") as f:
            ranges = [tuple(int(x) for x in line.split()) for line in f if line.strip()]
    except OSError:
        return True
    return any(inside <= uid < inside + count for inside, _, count in ranges)


def sandbox_identity(exclusive):
    """(Identity or None, why not). As root, whom student code runs as; None when not root.

    On Gradescope (exclusive: one submission per container) that is the `student` user
    setup.sh creates, else nobody. When several submissions are graded at once (batch),
    each gets a uid of its own, so that none can signal or read another's processes.
    """
    if not platform.is_root():
        return None, "not root: student code runs as you"
    import grp
    import pwd
    try:
        nogroup = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        nogroup = NOBODY
    chosen = None
    if not exclusive:
        chosen = Identity(UNIQUE_UID_BASE + os.getpid() % 100000, nogroup)
    else:
        name = os.environ.get("AUTOGRADER_SANDBOX_USER", "student")
        if name.isdigit():
            chosen = Identity(int(name), nogroup)
        for candidate in ([] if chosen else [name, "nobody"]):
            try:
                user = pwd.getpwnam(candidate)
                chosen = Identity(user.pw_uid, user.pw_gid)
                break
            except KeyError:
                continue
        chosen = chosen or Identity(UNIQUE_UID_BASE, nogroup)
    if platform.system() == "linux" and not uid_mapped(chosen.uid):
        if uid_mapped(NOBODY):
            return Identity(NOBODY, nogroup if uid_mapped(nogroup) else NOBODY), None
        return None, ("the sandbox's uid is not mapped in this user namespace (a rootless container?): "
                      "student code runs as the grader's user")
    return chosen, None


# ---- the jail's spec ---------------------------------------------------------------------

def interpreter():
    return os.path.realpath(sys.executable)


def numpy_folders():
    here = os.path.dirname(os.path.realpath(numpy.__file__))
    libs = here + ".libs"  # a manylinux wheel's own copies of OpenBLAS and libgfortran
    return [here] + ([libs] if os.path.isdir(libs) else [])


def stdlib():
    """The standard library's folder (a venv's own lib/ holds only its site-packages: not this)."""
    return os.path.dirname(os.path.realpath(os.__file__))


def libpython():
    """A shared interpreter's libpython, wherever this interpreter really finds it (a copied
    or relocated one finds it beside itself, not at the LIBDIR it was built for)."""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        return []
    folders = [os.path.join(os.path.dirname(os.path.dirname(interpreter())), "lib"),
               sysconfig.get_config_var("LIBDIR") or ""]
    for folder in folders:
        try:
            found = [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.startswith("libpython")]
        except OSError:
            continue
        if found:
            return [os.path.realpath(f) for f in found]
    return []


def read_only_binds():
    """What the reduced file system shows read-only: the system's libraries, the interpreter, its
    standard library and libpython, numpy."""
    system = [p for p in SYSTEM_LIBRARIES if os.path.lexists(p)]
    shown = {os.path.realpath(p) for p in system}
    paths = {interpreter(), stdlib(), *libpython(), *numpy_folders()}
    top = sorted(p for p in paths if not any(p != q and p.startswith(q + os.sep) for q in paths | shown))
    return system + top


def hidden_paths():
    """The grader's own folders, hidden even where a bind would show them: the checkout's, and an
    installed copy in a site-packages the standard library's bind brings along."""
    binds = read_only_binds()
    hidden = [os.path.join(ROOT, d) for d in ("autograder", "reference", "assignments", "tests")]
    for folder in binds:
        for packages in ("site-packages", "dist-packages"):
            hidden += [os.path.join(folder, packages, name) for name in ("autograder", "reference")]
    return sorted({p for p in hidden if os.path.isdir(p) and any(p.startswith(b + os.sep) for b in binds)})


def plan(folder, identity, limits, argv, fds, bwrap=True):
    """The jail's spec for one worker."""
    mb = int(limits["memory_mb"]) * 2**20
    cpu = int(limits["cpu_seconds"])
    rlimits = {"RLIMIT_AS": (mb, mb), "RLIMIT_CPU": (cpu, cpu + 1), "RLIMIT_FSIZE": (16 * 2**20,) * 2,
               "RLIMIT_CORE": (0, 0)}
    if identity:  # RLIMIT_NPROC counts the user's processes: as yourself, it would count all of yours
        rlimits["RLIMIT_NPROC"] = (int(limits["processes"]),) * 2
    binds = ([[p, "ro"] for p in read_only_binds()] + [[folder, "folder"]] + [[d, "dev"] for d in DEVICES])
    return {
        "fds": list(fds), "limits": rlimits, "simulate": sorted(platform.simulated()),
        "identity": [identity.uid, identity.gid] if identity else None, "root_user": platform.is_root(),
        "namespaces": platform.namespaces_possible(), "root": os.path.join(folder, "jail"),
        "binds": binds, "hide": hidden_paths(), "folder": folder, "argv": list(argv),
        "needs": [argv[0], folder] + numpy_folders(),
        "bwrap": platform.bubblewrap() if bwrap else None,
        "sandbox_exec": platform.sandbox_exec() if bwrap else None,
        "macos_profile": macos_profile(folder),
    }


def macos_profile(folder):
    """sandbox-exec's profile: no network; the grader's checkout and the user's home unreadable,
    except the interpreter and numpy; writes only in the sandbox folder."""
    def quoted(p):
        return '"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"'
    allowed = " ".join(f"(subpath {quoted(p)})" for p in [os.path.dirname(interpreter())]
                       + numpy_folders() + [folder])
    denied = " ".join(f"(subpath {quoted(p)})" for p in [ROOT, os.path.expanduser("~")])
    return (f"(version 1) (allow default) (deny network*) (deny file-read* {denied}) "
            f"(allow file-read* {allowed}) (deny file-write* (require-not (subpath {quoted(folder)})))")


def probe_settings(grader_pid):
    """What the worker checks before importing the student's file (see `Protections`): files that
    exist and must stay out of reach, the reference and one entry of the user's home (not one
    on the way to the interpreter or numpy, which the reduced file system shows)."""
    hidden = [p for p in (os.path.join(ROOT, "reference", "__init__.py"), os.path.join(ROOT, "autograder", "__init__.py"))
              if os.path.isfile(p)]
    home = os.path.realpath(os.path.expanduser("~"))
    shown = read_only_binds()
    try:
        entries = sorted(os.listdir(home)) if home not in ("/", "") else []
    except OSError:
        entries = []
    for name in entries:
        path = os.path.join(home, name)
        if os.path.isfile(path) and not any(b == path or b.startswith(path + os.sep) for b in shown):
            hidden.append(path)
            break
    return {"hidden": hidden, "grader": grader_pid}


# ---- what was in force ----------------------------------------------------------------------

@dataclass(frozen=True)
class Protection:
    name: str
    in_force: bool
    how: str       # in force: by what; missing: why not


@dataclass(frozen=True)
class Protections:
    items: tuple

    @classmethod
    def measured(cls, jail, probe, limits, identity, identity_problem, memory_polled):
        lim = jail["limits"]
        isolation = jail.get("isolation")
        refused = "; ".join(jail.get("refused") or [])
        why = f" ({refused})" if refused else ""
        items = [Protection("own process", True, "student code runs in a process of its own; only numbers come back")]
        if lim.get("RLIMIT_AS") is None:
            items.append(Protection("memory limit", True, f"RLIMIT_AS {limits['memory_mb']:g} MB"))
        else:
            items.append(Protection("memory limit", memory_polled,
                                    f"polled by the grader ({limits['memory_mb']:g} MB of resident memory); "
                                    f"RLIMIT_AS refused: {lim['RLIMIT_AS']}"))
        items.append(cls.limit(lim, "RLIMIT_CPU", "CPU limit", f"{limits['cpu_seconds']:g} s"))
        items.append(cls.limit(lim, "RLIMIT_FSIZE", "file-size limit", "16 MB"))
        if "RLIMIT_NPROC" in lim:
            items.append(cls.limit(lim, "RLIMIT_NPROC", "process limit", f"{limits['processes']:g} processes"))
        elif isolation in ("namespaces", "bubblewrap"):
            items.append(Protection("process limit", True, "no count limit, but every process dies with the "
                                                           "worker's pid namespace"))
        else:
            items.append(Protection("process limit", False, "a process-count limit would count all of your "
                                                            "own processes; the grader kills the tree instead"))
        items.append(Protection("no network", not probe.get("network"),
                                f"{isolation}: no network" if not probe.get("network") else
                                f"student code reached the network{why}"))
        seen = probe.get("readable") or []
        items.append(Protection("grader's files hidden", not seen,
                                f"{isolation or 'file permissions'}: the checkout and your home are out of reach"
                                if not seen else f"student code can read {', '.join(seen)}{why}"))
        items.append(Protection("grader out of reach", not probe.get("grader_signallable"),
                                "student code cannot signal the grader" if not probe.get("grader_signallable")
                                else "student code can signal the grader (the same user, the same pid namespace)"))
        items.append(Protection("another user", identity is not None,  # no uid here: batch's vary, results must not
                                "an unprivileged uid of the sandbox's, no groups" if identity
                                else identity_problem or "not root"))
        return cls(tuple(items))

    @staticmethod
    def limit(lim, key, name, value):
        return Protection(name, lim.get(key) is None, f"{key} {value}" if lim.get(key) is None
                          else f"{key} refused: {lim[key]}")

    def as_json(self):
        return {p.name: ("in force: " if p.in_force else "missing: ") + p.how for p in self.items}
