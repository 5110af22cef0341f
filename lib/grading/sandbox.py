"""The grader's sandbox: what confines a child process that runs a student's code.

Two halves:

* the parent's half (:func:`probe`, :func:`command`, :class:`PidsCgroup`, :func:`sweep`)
  decides once per run what this platform allows, builds the command line of the child and
  cleans up after it;
* the child's half (:func:`confine`) runs first thing in the worker, *before* the submission
  is read, and locks the process down; everything it sets is enforced by the kernel and cannot
  be undone by the code that runs afterwards.

Isolation levels (``Isolation.mode``), best first:

``root-namespaces``
    the grader runs as root on Linux with util-linux ``unshare``: the child gets new PID,
    mount and network namespaces (``unshare --pid --mount --net --fork --kill-child
    --mount-proc``). It is PID 1 of its namespace, so when it ends the kernel kills every
    process it started. Its filesystem view is read-only except a fresh size-limited tmpfs on
    ``/tmp`` (its working directory) and ``/dev/shm``; the submitted notebooks' folders and the
    cgroup tree are covered by empty tmpfs. The process count is limited by a ``pids`` cgroup
    (RLIMIT_NPROC is ignored for uid 0) when one can be created; then every capability is
    dropped (bounding set, effective, permitted; ``no_new_privs``), so the student's code is
    uid 0 without any privilege: it cannot remount, raise its limits, leave its cgroup, see or
    signal processes outside its namespace, or reach the network (only a down loopback).
``user-namespaces``
    not root, but unprivileged user namespaces are allowed: the same, inside a user namespace
    (``--user --map-root-user``); RLIMIT_NPROC works there (counted per user namespace).
``process-group``
    neither (macOS, or Linux without ``unshare``/user namespaces): a new session and process
    group, resource limits, a scrubbed environment and an empty working directory; no network
    or filesystem isolation.

In every mode the child has OS resource limits (``setrlimit``: CPU seconds, address space,
file size, number of processes, open files, no core dumps), a scrubbed environment with a
marker variable, and the parent enforces the wall-clock limit with SIGKILL to the whole
process group, then sweeps: every process that carries the session's marker or sits in its
cgroup is killed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "DESCENT_GRADE_SESSION"
TMPFS_SIZE = "64m"


@dataclass
class Isolation:
    mode: str  # "root-namespaces", "user-namespaces" or "process-group"
    network: bool  # a new network namespace
    pid_namespace: bool
    filesystem: bool  # read-only view, private /tmp, hidden submissions
    cgroup_root: str | None  # where per-child pids cgroups are made (root only)
    unshare: str | None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [self.mode]
        parts.append("network isolated" if self.network else "NO network isolation")
        root = hasattr(os, "geteuid") and os.geteuid() == 0
        parts.append(
            "pids cgroup"
            if self.cgroup_root
            else ("process count NOT limited" if root and self.mode != "user-namespaces" else "RLIMIT_NPROC")
        )
        return ", ".join(parts)


_NS_FLAGS = ["--pid", "--mount", "--net", "--fork", "--kill-child", "--mount-proc"]


def _selftest(mode: str, unshare: str | None, cgroup_root: str | None) -> bool:
    """Start the real worker in ``mode`` with ``selftest``: it confines itself and reports."""
    import json
    import tempfile

    root = Path(__file__).resolve().parent.parent.parent  # the course checkout
    with tempfile.TemporaryDirectory(prefix="descent-probe-") as tmp:
        config = {
            "root": str(root),
            "mode": mode,
            "staging": tmp,
            "hide": [],
            "cgroup": None,
            "selftest": True,
            "limits": {"memory": 3 * 2**30, "fsize": 2**24, "nproc": 64, "nofile": 256, "core": 0, "cpu": 30},
        }
        iso = Isolation(mode, False, False, False, cgroup_root, unshare)
        argv = command(iso, [sys.executable, "-I", str(root / "lib" / "grading" / "worker.py"), json.dumps(config)])
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
                cwd=tmp,
                env={"PATH": "/usr/local/bin:/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1"},
            )
            return proc.returncode == 0 and json.loads(proc.stdout.strip().splitlines()[-1]).get("ok") is True
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            return False


def probe(force: str | None = None) -> Isolation:
    """The best isolation this platform allows, found by starting a real confined worker once.
    ``force`` (``"user-namespaces"`` or ``"process-group"``) skips the stronger modes."""
    unshare = shutil.which("unshare") if sys.platform.startswith("linux") else None
    notes: list[str] = []
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    cg = _cgroup_root() if is_root else None
    if force is None and unshare and is_root and _selftest("root-namespaces", unshare, cg):
        if cg is None:
            notes.append(
                "no writable pids cgroup: the number of processes is limited only by the "
                "namespace's teardown and the wall-clock limit"
            )
        return Isolation("root-namespaces", True, True, True, cg, unshare, notes)
    if force in (None, "user-namespaces") and unshare and _selftest("user-namespaces", unshare, None):
        return Isolation("user-namespaces", True, True, True, None, unshare, notes)
    if force:
        notes.append(f"a weaker sandbox was asked for (--isolation {force})")
    elif unshare is None and sys.platform.startswith("linux"):
        notes.append("util-linux `unshare` not found: no network or filesystem isolation")
    elif sys.platform.startswith("linux"):
        notes.append("namespaces unavailable (not root, user namespaces disabled): no network or filesystem isolation")
    else:
        notes.append(f"{sys.platform}: no namespaces; RLIMIT_AS may be ignored (macOS)")
    if is_root and cg is None:
        notes.append(
            "running as root without a pids cgroup: RLIMIT_NPROC does not apply to root, so the "
            "number of processes is NOT limited (only swept afterwards)"
        )
    return Isolation("process-group", False, False, False, cg, None, notes)


def command(iso: Isolation, argv: list[str]) -> list[str]:
    """The argv that starts ``argv`` in the sandbox ``iso`` (behind ``unshare`` when namespaces are used)."""
    if iso.mode == "root-namespaces":
        return [iso.unshare, *_NS_FLAGS, "--", *argv]
    if iso.mode == "user-namespaces":
        return [iso.unshare, "--user", "--map-root-user", *_NS_FLAGS, "--", *argv]
    return list(argv)


# --- cgroups (parent side) ------------------------------------------------------------------


def _cgroup_root() -> str | None:
    """A directory under which a ``pids`` cgroup can be made, or None."""
    candidates = [Path("/sys/fs/cgroup/pids")]  # cgroup v1
    try:  # cgroup v2: our own cgroup, if the pids controller is delegated to it
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                candidates.append(Path("/sys/fs/cgroup") / line[3:].lstrip("/"))
    except OSError:
        pass
    for base in candidates:
        probe_dir = base / f"descent-probe-{os.getpid()}"
        try:
            probe_dir.mkdir()
        except OSError:
            continue
        ok = (probe_dir / "pids.max").exists()
        try:
            probe_dir.rmdir()
        except OSError:
            pass
        if ok:
            return str(base)
    return None


class PidsCgroup:
    """A ``pids`` cgroup for one child: ``pids.max`` caps processes and threads together."""

    def __init__(self, root: str, name: str, limit: int):
        self.path = Path(root) / name
        self.path.mkdir()
        (self.path / "pids.max").write_text(str(limit))

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def kill_and_remove(self) -> int:
        killed = 0
        for _ in range(100):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except OSError:
                    pass
            time.sleep(0.02)
        for _ in range(100):
            try:
                self.path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)
        return killed


def marked_processes(token: str) -> list[int]:
    """The processes whose environment carries ``MARKER=token`` (Linux /proc; else [])."""
    needle = f"{MARKER}={token}".encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            found.append(int(entry))
    return found


def sweep(token: str, rounds: int = 5) -> int:
    """SIGKILL every process still carrying the session's marker; return how many were found."""
    total = 0
    for _ in range(rounds):
        pids = [p for p in marked_processes(token) if p != os.getpid()]
        if not pids:
            break
        total += len(pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
    return total


# --- the child's half -------------------------------------------------------------------------

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 38, 24


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount(libc, source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    rc = libc.mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            points.append(fields[4].replace("\\040", " "))
    return points


def _remount_read_only(libc, point: str) -> None:
    st = os.statvfs(point)
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY
    for st_flag, ms_flag in (
        (os.ST_NOSUID, MS_NOSUID),
        (os.ST_NODEV, MS_NODEV),
        (os.ST_NOEXEC, MS_NOEXEC),
        (os.ST_NOATIME, MS_NOATIME),
        (os.ST_NODIRATIME, MS_NODIRATIME),
        (getattr(os, "ST_RELATIME", 4096), MS_RELATIME),
    ):
        if st.f_flag & st_flag:
            flags |= ms_flag
    _mount(libc, "none", point, None, flags)


def _drop_capabilities(libc) -> None:
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    last = 63
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        pass
    for cap in range(last + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")


def _set_limits(limits: dict) -> None:
    import resource

    table = {
        "cpu": resource.RLIMIT_CPU,
        "memory": resource.RLIMIT_AS,
        "fsize": resource.RLIMIT_FSIZE,
        "nproc": resource.RLIMIT_NPROC,
        "nofile": resource.RLIMIT_NOFILE,
        "core": resource.RLIMIT_CORE,
    }
    for name, value in limits.items():
        if name not in table or value is None:
            continue
        soft, hard = (value, value) if name != "cpu" else (value, value + 2)  # SIGXCPU, then SIGKILL
        try:
            resource.setrlimit(table[name], (soft, hard))
        except (ValueError, OSError):
            if name == "memory" and sys.platform == "darwin":
                continue  # macOS refuses RLIMIT_AS
            raise


def count_own_tasks() -> int:
    """Processes and threads of this user (what RLIMIT_NPROC counts), from /proc; 0 if unknown."""
    uid, total = os.getuid(), 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                text = f.read()
        except OSError:
            continue
        owner = threads = None
        for line in text.splitlines():
            if line.startswith("Uid:"):
                owner = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
        if owner == uid:
            total += threads or 1
    return total


def needs_tmp() -> bool:
    """True when the course or the Python running it lives under ``/tmp`` (e.g. a clone made with
    ``mktemp -d``): a private tmpfs over ``/tmp`` would then hide them from the child, so the
    child gets its private tmpfs on its own staging directory instead (and ``/tmp`` stays
    visible, read-only)."""
    paths = [
        Path(__file__).resolve().parent.parent.parent,
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(os.path.realpath(sys.executable)),
    ]
    return any(p == Path("/tmp") or Path("/tmp") in p.resolve().parents for p in paths)


def confine(
    mode: str, workdir_src: str, hide: list[str], cgroup: str | None, limits: dict, staging_root: str | None = None
) -> str:
    """Lock this process down (called by the worker before it reads the submission); return
    the working directory to use. Raises ``OSError`` if a required step fails.

    ``staging_root`` is the folder holding every child's staging copy of the same run
    (``workdir_src`` is inside it): with namespaces it is covered, so that a child sees its own
    submission only, never a peer's that is being graded at the same time."""
    if mode in ("root-namespaces", "user-namespaces"):
        libc = _libc()
        if cgroup:  # join the pids cgroup while /sys/fs/cgroup is still visible
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write("0\n")
        _mount(libc, "none", "/", None, MS_REC | MS_PRIVATE)
        files = {}
        for name in os.listdir(workdir_src):  # the copy of the submission, read before /tmp is covered
            with open(os.path.join(workdir_src, name), "rb") as f:
                files[name] = f.read()
        for point in sorted(set(_mount_points()), key=len):
            if point.startswith("/proc"):
                continue
            try:
                _remount_read_only(libc, point)
            except OSError:
                pass  # a special file system that refuses; the important ones are covered below
        if os.access("/", os.W_OK) and os.statvfs("/").f_flag & os.ST_RDONLY == 0:
            raise OSError("the root file system could not be made read-only")
        peers = staging_root if staging_root and os.path.isdir(staging_root) else None
        covered_by_tmp = peers is not None and not needs_tmp() and (peers == "/tmp" or peers.startswith("/tmp/"))
        for target in [*hide, "/sys/fs/cgroup", *([peers] if peers and not needs_tmp() and not covered_by_tmp else [])]:
            if os.path.isdir(target):
                _mount(libc, "tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=555")
        if needs_tmp():
            # /tmp stays visible (the course or Python lives there): a private tmpfs over the whole
            # staging root hides every peer's copy; this child's own copy is written into it below
            private = peers or workdir_src
            _mount(libc, "tmpfs", private, "tmpfs", MS_NOSUID | MS_NODEV, f"size={TMPFS_SIZE},mode=1777")
            workdir = os.path.join(private, "work")
            os.mkdir(workdir, 0o777)
        else:
            _mount(libc, "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={TMPFS_SIZE},mode=1777")
            workdir = "/tmp/work"
            os.mkdir(workdir, 0o777)
        if os.path.isdir("/dev/shm"):
            _mount(libc, "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777")
        for name, data in files.items():
            with open(os.path.join(workdir, name), "wb") as f:
                f.write(data)
        _set_limits(limits)
        _drop_capabilities(libc)
    else:
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write("0\n")
        if limits.get("nproc") is not None:
            limits = dict(limits, nproc=count_own_tasks() + limits["nproc"])
        _set_limits(limits)
        workdir = workdir_src
    os.chdir(workdir)
    return workdir
