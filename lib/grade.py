"""Grade exercise notebooks: ``python -m lib.grade SUBMISSION... [--jobs N] [--csv F] [--json F] [--seed S] [--timeout S]``.

A submission is a notebook (the student id is its file name without ``.ipynb``) or a folder
of notebooks (the student id is the folder's name). Students can run the same command on
their own notebook to see the score they will get.

How it works (see the README's instructor section for the table of statuses and limits):

* The parent (this process) reads the notebook itself (JSON only; an old nbformat is
  converted), finds the chapter (metadata ``descent.chapter``, else the names of the functions
  the notebook defines) and takes the exercises, points and tolerances from
  :mod:`lib.exercises`, never from the submission. Check cells (``check("id", fn)`` and
  comments only) are skipped, whatever their metadata says.
* Student code never runs here. A child (:mod:`lib._grade_worker`) is started in a sandbox
  (:mod:`lib._sandbox`: namespaces where the platform allows, OS resource limits, scrubbed
  environment, a private working directory holding only a copy of the submission). The parent
  sends it the code cells one at a time, then each case's inputs; the child calls the
  student's function and returns **plain data only** (:mod:`lib._wire`: no pickle; numeric
  arrays become base-class ``ndarray``; anything else is only its type name).
* Every comparison happens here, with :func:`lib.checks.assess`, the judge the notebook's
  check cells use, on reference results computed here.
* Wall-clock limit (``--timeout``) per cell and per exercise: on expiry, or if the child dies,
  the whole session is killed (SIGKILL to its process group, namespace and cgroup, then a sweep
  of the session's marker) and a fresh child continues with the next exercise, so a failure
  costs only its own exercise. A cell that hung or killed a child is skipped in the next one.
* ``--seed S`` grades on hidden cases drawn from a generator seeded by ``(S, exercise id)``.

Exit status: 0 when every submission was graded; 1 when some were not gradable (corrupt file,
unknown chapter); 2 on an error of the grader itself (a bad output path, a sandbox that does
not start). A bad submission never produces a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ExerciseGrade", "Submission", "Options", "grade_notebook", "grade_submission", "grade", "main",
           "STATUSES"]

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "_grade_worker.py"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_MB = 3072
MAX_NOTEBOOK_BYTES = 20 * 2**20
OUTPUT_CAP = 64 * 1024  # bytes of the child's stdout / stderr kept (each)
PROTOCOL_CAP = 128 * 2**20  # longest response line accepted
START_TIMEOUT = 60.0  # the child's imports and sandbox set-up

#: every status an exercise can get, with its meaning (the README's table)
STATUSES = {
    "pass": "every case agrees with the reference",
    "fail": "a wrong value, shape, dtype or kind of object, a NaN / inf, or a modified input",
    "error": "the function (or the cell defining it) raised an exception",
    "not attempted": "the function still raises NotImplementedError (the released stub)",
    "not found": "no function of that name is defined (or it is not a function)",
    "timeout": "a call or the cell defining it ran past the wall-clock or CPU limit",
    "memory limit": "the function ran out of the memory limit",
    "crashed": "the process died while running it (os._exit, a signal, a file-size limit ...)",
    "not gradable": "the whole submission: unreadable file, not a notebook, unknown chapter",
}


@dataclass
class ExerciseGrade:
    id: str
    points: float
    max_points: int
    status: str
    passed_cases: int = 0
    total_cases: int = 0
    message: str = ""
    reason: str = ""  # fail: value / shape / dtype / type / non-finite / mutated; error: exception type
    notebook: str = ""


@dataclass
class Submission:
    student: str
    path: str
    gradable: bool = True
    reason: str = ""
    chapter: str | None = None
    chapters: list[str] = field(default_factory=list)
    exercises: list[ExerciseGrade] = field(default_factory=list)
    cell_errors: list[dict] = field(default_factory=list)
    timed_out: bool = False
    children: int = 0
    output: dict = field(default_factory=lambda: {"stdout": "", "stderr": "", "bytes": 0, "truncated": False})
    leftover_processes_killed: int = 0
    seconds: float = 0.0
    grader_error: str = ""

    @property
    def total(self) -> float:
        return _round(sum(e.points for e in self.exercises))

    @property
    def max_total(self) -> int:
        return sum(e.max_points for e in self.exercises)


@dataclass
class Options:
    timeout: float = DEFAULT_TIMEOUT
    seed: int | None = None
    memory_mb: int = DEFAULT_MEMORY_MB
    max_processes: int = 64
    max_file_mb: int = 16
    isolation: Any = None  # lib._sandbox.Isolation, probed once per run
    hide: list[str] = field(default_factory=list)


def _round(x: float) -> float:
    x = round(float(x), 2)
    return int(x) if x == int(x) else x


# --- notebooks -----------------------------------------------------------------------------------

class NotGradable(Exception):
    pass


_CHECK_LINE = re.compile(r"""^check\(\s*(["'])(\w+)\1\s*,\s*[\w.]+\s*\)\s*;?\s*(#.*)?$""")
_DEF = re.compile(r"^def\s+(\w+)\s*\(", re.MULTILINE)


def _check_ids(source: str) -> list[str] | None:
    """The exercise ids of a check cell (only ``check("id", fn)`` lines and comments), else None."""
    ids = []
    for line in source.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = _CHECK_LINE.match(s)
        if not m:
            return None
        ids.append(m.group(2))
    return ids or None


def read_notebook(path: Path):
    """Parse a submission in the parent (JSON only, no code runs): return the nbformat-4 notebook.
    Raise :class:`NotGradable` with the reason."""
    import nbformat
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotGradable(f"cannot read the file: {exc.strerror}") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise NotGradable(f"the file is {size / 2**20:.0f} MiB; notebooks over {MAX_NOTEBOOK_BYTES // 2**20} MiB are refused")
    try:
        raw = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotGradable(f"cannot read the file as UTF-8 text ({type(exc).__name__})") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise NotGradable(f"not a notebook: the file is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotGradable("not a notebook: no nbformat version in the file")
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(raw, as_version=4)
        cells = list(nb.cells)
        for c in cells:
            _ = c.cell_type, c.source
    except Exception as exc:
        raise NotGradable(f"not a readable notebook ({type(exc).__name__}: {str(exc)[:150]})") from None
    return nb


def find_chapter(nb) -> str:
    """The chapter of a submission: its metadata if that names a chapter whose functions the
    notebook defines, else the chapter whose functions (or check ids) it mentions most."""
    from lib import exercises
    sources = [c.source if isinstance(c.source, str) else "".join(c.source) for c in nb.cells if c.cell_type == "code"]
    defined = {name for s in sources for name in _DEF.findall(s)}
    checked = {i for s in sources for i in (_check_ids(s) or [])}
    score = {}
    for chapter in exercises.chapters():
        exs = exercises.for_chapter(chapter)
        score[chapter] = len({ex.function for ex in exs} & defined) + len({ex.id for ex in exs} & checked)
    meta = nb.metadata.get("descent") if isinstance(nb.metadata, dict) else None
    claimed = meta.get("chapter") if isinstance(meta, dict) else None
    best = max(score, key=lambda c: score[c], default=None)
    if isinstance(claimed, str) and claimed in score and (score[claimed] > 0 or not best or score[best] == 0):
        return claimed
    if best is not None and score[best] > 0:
        return best
    raise NotGradable("no chapter: the notebook metadata names no known chapter (descent.chapter) "
                      "and it defines none of the exercises' functions")


# --- the child -----------------------------------------------------------------------------------

class ChildLost(Exception):
    """The child timed out or died; ``status`` is "timeout", "memory limit" or "crashed"."""

    def __init__(self, status: str, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


class Output:
    """The child's stdout / stderr: the first ``OUTPUT_CAP`` bytes of each, and a byte count."""

    def __init__(self):
        self.kept = {"stdout": bytearray(), "stderr": bytearray()}
        self.bytes = 0
        self.truncated = False

    def add(self, name: str, data: bytes) -> None:
        self.bytes += len(data)
        room = OUTPUT_CAP - len(self.kept[name])
        if len(data) > room:
            self.truncated = True
        if room > 0:
            self.kept[name] += data[:room]

    def tail(self, name: str = "stderr", lines: int = 3) -> str:
        text = self.kept[name].decode("utf-8", "replace").strip().splitlines()
        return " | ".join(text[-lines:])[-300:]

    def as_dict(self) -> dict:
        return {"stdout": self.kept["stdout"].decode("utf-8", "replace"),
                "stderr": self.kept["stderr"].decode("utf-8", "replace"),
                "bytes": self.bytes, "truncated": self.truncated}


_MEMORY_WORDS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory", "Unable to allocate")


class Child:
    """One sandboxed worker process and the pipes to it."""

    def __init__(self, notebook_bytes: bytes, filename: str, opts: Options, output: Output):
        from lib import _sandbox
        self.opts, self.output = opts, output
        self.token = secrets.token_hex(12)
        self.tmp = Path(tempfile.mkdtemp(prefix="descent-grade-"))
        staging = self.tmp / "staging"
        staging.mkdir()
        (staging / filename).write_bytes(notebook_bytes)
        iso = opts.isolation
        self.cgroup = None
        if iso.cgroup_root:
            try:
                self.cgroup = _sandbox.PidsCgroup(iso.cgroup_root, f"descent-{self.token}", opts.max_processes)
            except OSError:
                self.cgroup = None
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        config = {
            "root": str(ROOT), "mode": iso.mode, "staging": str(staging), "hide": opts.hide,
            "cgroup": str(self.cgroup.path) if self.cgroup else None,
            "request_fd": req_r, "response_fd": resp_w,
            "limits": {"memory": opts.memory_mb * 2**20, "fsize": opts.max_file_mb * 2**20,
                       "nproc": opts.max_processes, "nofile": 256, "core": 0,
                       "cpu": int(max(10, opts.timeout * 4))},
        }
        # the child's private writable directory: /tmp/work on its own tmpfs, else the staging copy
        home = "/tmp/work" if iso.filesystem and not _sandbox.needs_tmp() else str(staging)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home,
               "TMPDIR": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1",
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/mpl",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "NUMEXPR_NUM_THREADS": "1", _sandbox.MARKER: self.token}
        argv = _sandbox.command(iso, [sys.executable, "-I", str(WORKER), json.dumps(config)])
        try:
            self.proc = subprocess.Popen(argv, cwd=str(staging), env=env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         pass_fds=(req_r, resp_w), start_new_session=True)
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.selector = selectors.DefaultSelector()
        for fd, name in ((self.proc.stdout.fileno(), "stdout"), (self.proc.stderr.fileno(), "stderr"),
                         (self.resp_r, "protocol")):
            os.set_blocking(fd, False)
            self.selector.register(fd, selectors.EVENT_READ, name)
        self.buffer = bytearray()
        self.open = {"stdout", "stderr", "protocol"}
        self.closed = False
        try:
            self.ready = self.receive(time.monotonic() + START_TIMEOUT, starting=True)
            if self.ready.get("op") != "ready":
                raise ChildLost("crashed", "the grading sandbox did not start")
        except ChildLost:
            self.close()
            raise

    def send(self, message: dict) -> None:
        data = (json.dumps(message) + "\n").encode()
        try:
            view = memoryview(data)
            while view:
                n = os.write(self.req_w, view)
                view = view[n:]
        except OSError:
            pass  # the child is gone: receive() says how

    def receive(self, deadline: float, starting: bool = False, nonce: str | None = None) -> dict:
        while True:
            newline = self.buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self.buffer[:newline])
                del self.buffer[:newline + 1]
                try:
                    message = json.loads(line)
                except ValueError:
                    continue  # noise: only well-formed messages count
                if isinstance(message, dict) and message.get("n") == nonce:
                    return message
                continue  # a stale or forged reply
            if len(self.buffer) > PROTOCOL_CAP:
                self.kill()
                raise ChildLost("crashed", f"the result was larger than {PROTOCOL_CAP // 2**20} MiB")
            if "protocol" not in self.open:
                raise self._lost(starting)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise ChildLost("timeout", "")
            for key, _ in self.selector.select(timeout=min(remaining, 1.0)):
                data = self._read_ready(key)
                if not data:
                    continue
                if key.data == "protocol":
                    self.buffer += data
                else:
                    self.output.add(key.data, data)

    def _read_ready(self, key) -> bytes | None:
        """Read what a ready pipe holds: ``None`` if nothing after all, ``b""`` once the pipe is
        closed (it is then unregistered and dropped from ``self.open``)."""
        try:
            data = os.read(key.fd, 1 << 20)
        except BlockingIOError:
            return None
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(key.fd)
            self.open.discard(key.data)
        return data

    def _lost(self, starting: bool) -> ChildLost:
        """The child closed its end: wait for its exit, drain its stderr, say why it died."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._drain(1.0)
        self.kill()
        tail = self.output.tail()
        import signal as _signal
        if code is not None and code < 0:
            sig = -code
            why = {_signal.SIGXCPU: "CPU time limit", _signal.SIGXFSZ: "file size limit"}.get(sig)
            name = _signal.Signals(sig).name if sig in _signal.Signals._value2member_map_ else str(sig)
            if sig == _signal.SIGXCPU:
                return ChildLost("timeout", f"the CPU time limit ({self.opts.timeout * 4:g} s) was reached")
            detail = f"killed by {name}" + (f" ({why})" if why else "")
        else:
            detail = f"exit status {code}"
        if any(w in tail for w in _MEMORY_WORDS):
            return ChildLost("memory limit", f"{detail}: {tail}")
        if starting:
            return ChildLost("crashed", f"the grading sandbox did not start ({detail}): {tail}")
        return ChildLost("crashed", detail + (f": {tail}" if tail else ""))

    def _drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while self.open - {"protocol"} and time.monotonic() < end:
            for key, _ in self.selector.select(timeout=0.1):
                data = self._read_ready(key)
                if data and key.data != "protocol":
                    self.output.add(key.data, data)
                else:
                    self.buffer += data

    def request(self, message: dict, deadline: float) -> dict:
        nonce = secrets.token_hex(8)
        self.send(dict(message, n=nonce))
        return self.receive(deadline, nonce=nonce)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except OSError:
            pass

    def close(self) -> int:
        """Kill the child and everything it started; return how many leftovers were killed."""
        if self.closed:
            return 0
        self.closed = True
        from lib import _sandbox
        self.send({"op": "bye"})
        try:
            self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._drain(0.2)
        leftovers = 0
        if self.cgroup is not None:
            leftovers += self.cgroup.kill_and_remove()
        leftovers += _sandbox.sweep(self.token)
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        for fd in (self.req_w, self.resp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.selector.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return leftovers


# --- grading --------------------------------------------------------------------------------------

_REFERENCE_CACHE: dict = {}
_REFERENCE_LOCK = threading.Lock()


def _reference(ex, seed):
    """(cases, reference results) of an exercise, computed once per run in the parent."""
    from lib.checks import reference_result
    key = (ex.id, seed)
    with _REFERENCE_LOCK:
        if key not in _REFERENCE_CACHE:
            cases = ex.make_cases(seed)
            _REFERENCE_CACHE[key] = (cases, [reference_result(ex, c) for c in cases])
        return _REFERENCE_CACHE[key]


def _encode_case(ex, seed, index, case) -> tuple[dict, dict]:
    from lib import _wire

    def lazy(x, path):
        return {"t": "lazy", "exercise": ex.id, "seed": seed, "case": index, "path": list(path),
                "description": x.description}

    args = _wire.encode(tuple(case.args), lambda x, p: lazy(x, ("args",) + p))
    kwargs = _wire.encode(dict(case.kwargs), lambda x, p: lazy(x, ("kwargs",) + p))
    return args, kwargs


class _Session:
    """Runs one notebook: a child at a time, fresh after a timeout or crash."""

    def __init__(self, nb, nb_bytes: bytes, filename: str, opts: Options, output: Output, sub: Submission):
        self.opts, self.output, self.sub = opts, output, sub
        self.nb_bytes, self.filename = nb_bytes, filename
        self.cells = []  # (index, source) of code cells to run
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
            if _check_ids(source) is not None:
                continue  # a check cell: the grader does the checking
            self.cells.append((index, source))
        self.fatal: dict[int, tuple[str, str]] = {}  # cell index -> (status, detail): skipped in later children
        self.cell_errors: dict[int, dict] = {}
        self.child: Child | None = None

    def child_ready(self) -> Child:
        while self.child is None:
            self.sub.children += 1
            child = Child(self.nb_bytes, self.filename, self.opts, self.output)
            self.child = child
            for index, source in self.cells:
                if index in self.fatal:
                    continue
                try:
                    reply = child.request({"op": "exec", "index": index, "source": source},
                                          time.monotonic() + self.opts.timeout)
                except ChildLost as lost:
                    detail = lost.detail or f"the cell ran for more than {self.opts.timeout:g} s"
                    self.fatal[index] = (lost.status, detail)
                    self.cell_errors.setdefault(index, {"cell": index, "status": lost.status, "error": detail})
                    if lost.status == "timeout":
                        self.sub.timed_out = True
                    self.drop_child()
                    break
                if reply.get("op") == "executed" and reply.get("error"):
                    self.cell_errors.setdefault(index, {"cell": index, "status": "error",
                                                        "error": str(reply["error"])[:300]})
        return self.child

    def drop_child(self) -> None:
        if self.child is not None:
            self.sub.leftover_processes_killed += self.child.close()
            self.child = None

    def grade(self, ex) -> ExerciseGrade:
        from lib import _wire
        from lib.checks import NOT_CALLABLE, Outcome, Result, assess
        cases, expected = _reference(ex, self.opts.seed)
        child = self.child_ready()
        deadline = time.monotonic() + self.opts.timeout
        missing: list[str] = []

        def call(i, case):
            args, kwargs = _encode_case(ex, self.opts.seed, i, case)
            reply = child.request({"op": "call", "function": ex.function, "exercise": ex.id,
                                   "seed": self.opts.seed, "args": args, "kwargs": kwargs}, deadline)
            op = reply.get("op")
            if op == "returned":
                try:
                    value = _wire.decode(reply.get("value"))
                    after_args = _wire.decode(reply.get("args"))
                    after_kwargs = _wire.decode(reply.get("kwargs"))
                except (_wire.WireError, ValueError, TypeError, KeyError):
                    raise ChildLost("crashed", "the child sent a malformed result") from None
                if not isinstance(after_args, tuple) or not isinstance(after_kwargs, dict):
                    raise ChildLost("crashed", "the child sent a malformed result")
                return Outcome(value, after_args, after_kwargs)
            if op == "raised":
                return Outcome(exc_type=str(reply.get("type", "Exception"))[:80],
                               exc_message=str(reply.get("message", ""))[:1000], where=str(reply.get("where", ""))[:300])
            if op in ("missing", "not_callable"):
                missing.append(str(reply.get("what", "")) if op == "not_callable" else "")
                raise _Missing()
            raise ChildLost("crashed", "the child sent an unexpected message")

        try:
            result: Result = assess(ex, cases, expected, call)
        except _Missing:
            return self._missing(ex, missing[0])
        except ChildLost as lost:
            self.drop_child()
            if lost.status == "timeout":
                self.sub.timed_out = True
                msg = (f"timeout: {ex.function} was still running after {self.opts.timeout:g} s "
                       f"(an infinite loop, or far too slow?)") if not lost.detail else f"timeout: {lost.detail}"
            elif lost.status == "memory limit":
                msg = (f"memory limit: {ex.function} used more than {self.opts.memory_mb} MiB; "
                       "look for an array or list that grows without bound")
            else:
                msg = (f"crashed: the process running {ex.function} died ({lost.detail}); "
                       "do not call os._exit, kill processes or exhaust the file-size limit")
            return ExerciseGrade(ex.id, 0, ex.points, lost.status, 0, len(cases), msg)
        status = {"not_implemented": "not attempted", "not_callable": "not found"}.get(result.status, result.status)
        if status == "error" and result.reason == "MemoryError":
            status = "memory limit"
            result = result._replace(message=f"memory limit: {ex.function} ran out of memory "
                                             f"({self.opts.memory_mb} MiB); " + result.message.split("\n", 1)[0])
        points = ex.points if status == "pass" else 0
        if getattr(ex, "partial_credit", False) and status in ("fail", "error") and result.total_cases:
            points = _round(ex.points * result.passed_cases / result.total_cases)
        assert status in STATUSES or status == NOT_CALLABLE
        return ExerciseGrade(ex.id, points, ex.points, status, result.passed_cases, result.total_cases,
                             result.message, result.reason)

    def _missing(self, ex, not_callable_what: str) -> ExerciseGrade:
        if not_callable_what:
            return ExerciseGrade(ex.id, 0, ex.points, "not found", message=(
                f"{ex.function} is a {not_callable_what}, not a function: define it with `def {ex.function}(...):`"))
        culprits = [i for i, src in self.cells if re.search(rf"^\s*def\s+{re.escape(ex.function)}\s*\(", src, re.M)]
        for i in culprits:
            if i in self.fatal:
                status, detail = self.fatal[i]
                return ExerciseGrade(ex.id, 0, ex.points, status, message=(
                    f"{status}: the cell defining {ex.function} (cell {i}) did not finish: {detail}"))
            if i in self.cell_errors:
                return ExerciseGrade(ex.id, 0, ex.points, "error", message=(
                    f"{ex.function} is not defined: its cell (cell {i}) raised {self.cell_errors[i]['error']}"),
                    reason=self.cell_errors[i]["error"].split(":")[0])
        return ExerciseGrade(ex.id, 0, ex.points, "not found", message=(
            f"{ex.function} is not defined: keep the function's name and its `def` cell (the notebook has no "
            f"`def {ex.function}(`)"))


class _Missing(Exception):
    pass


def grade_notebook(path: Path | str, timeout: float = DEFAULT_TIMEOUT, opts: Options | None = None,
                   student: str | None = None) -> Submission:
    """Grade one notebook; never raises for a bad submission."""
    from lib import exercises
    opts = opts or _default_options(timeout)
    path = Path(path)
    sub = Submission(student=student or path.stem, path=str(path))
    start = time.monotonic()
    try:
        nb = read_notebook(path)
        chapter = find_chapter(nb)
    except NotGradable as exc:
        sub.gradable, sub.reason = False, f"not gradable: {exc}"
        return sub
    sub.chapter, sub.chapters = chapter, [chapter]
    output = Output()
    session = _Session(nb, path.read_bytes(), path.name, opts, output, sub)
    try:
        for ex in exercises.for_chapter(chapter):
            grade_ = session.grade(ex)
            grade_.notebook = path.name
            sub.exercises.append(grade_)
    except ChildLost as lost:  # the sandbox itself does not start: the grader's problem
        sub.gradable, sub.reason = False, f"not gradable: {lost.detail}"
        sub.grader_error = lost.detail
    finally:
        session.drop_child()
    sub.cell_errors = [session.cell_errors[i] for i in sorted(session.cell_errors)]
    sub.output = output.as_dict()
    sub.seconds = round(time.monotonic() - start, 2)
    return sub


def grade_submission(path: Path | str, opts: Options) -> Submission:
    """A notebook, or a folder of notebooks (one student; each exercise keeps its best grade)."""
    path = Path(path)
    if not path.is_dir():
        if not path.exists():
            return Submission(student=path.stem, path=str(path), gradable=False, reason="not gradable: no such file")
        return grade_notebook(path, opts=opts)
    notebooks = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    sub = Submission(student=path.name, path=str(path))
    if not notebooks:
        sub.gradable, sub.reason = False, "not gradable: the folder holds no .ipynb file"
        return sub
    parts = [grade_notebook(nb, opts=opts, student=path.name) for nb in notebooks]
    graded = [p for p in parts if p.gradable]
    if not graded:
        sub.gradable, sub.reason = False, "; ".join(f"{Path(p.path).name}: {p.reason}" for p in parts)
        sub.grader_error = "; ".join(p.grader_error for p in parts if p.grader_error)
        return sub
    best: dict[str, ExerciseGrade] = {}
    for p in graded:
        for e in p.exercises:
            if e.id not in best or e.points > best[e.id].points:
                best[e.id] = e
    sub.chapters = sorted({p.chapter for p in graded})
    sub.chapter = sub.chapters[0] if len(sub.chapters) == 1 else ",".join(sub.chapters)
    sub.exercises = list(best.values())
    sub.cell_errors = [dict(e, notebook=Path(p.path).name) for p in graded for e in p.cell_errors]
    sub.timed_out = any(p.timed_out for p in parts)
    sub.children = sum(p.children for p in parts)
    sub.leftover_processes_killed = sum(p.leftover_processes_killed for p in parts)
    sub.output = {"stdout": "".join(p.output["stdout"] for p in parts)[:OUTPUT_CAP],
                  "stderr": "".join(p.output["stderr"] for p in parts)[:OUTPUT_CAP],
                  "bytes": sum(p.output["bytes"] for p in parts), "truncated": any(p.output["truncated"] for p in parts)}
    sub.seconds = round(sum(p.seconds for p in parts), 2)
    skipped = [f"{Path(p.path).name}: {p.reason}" for p in parts if not p.gradable]
    if skipped:
        sub.reason = "some notebooks not gradable: " + "; ".join(skipped)
    return sub


def _default_options(timeout: float = DEFAULT_TIMEOUT, **kwargs) -> Options:
    from lib import _sandbox
    return Options(timeout=timeout, isolation=_sandbox.probe(kwargs.pop("force_mode", None)), **kwargs)


def _hide_dirs(paths: list[Path]) -> list[str]:
    """Folders holding submissions, covered by an empty tmpfs in the child (when it has a mount
    namespace), unless that would also hide what the child needs (the course, Python)."""
    needed = [ROOT, Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent, WORKER]
    out = set()
    for p in paths:
        p = Path(p).resolve()
        for d in (p if p.is_dir() else None, p.parent):
            if d is None or d == Path("/"):
                continue
            if any(n.resolve() == d or d in n.resolve().parents for n in needed):
                continue
            out.add(str(d))
    return sorted(out)


def grade(paths, timeout: float = DEFAULT_TIMEOUT, jobs: int = 1, seed: int | None = None,
          progress=None, opts: Options | None = None) -> list[Submission]:
    """Grade submissions, ``jobs`` at a time; results in the order of ``paths``."""
    paths = [Path(p) for p in paths]
    opts = opts or _default_options(timeout, seed=seed)
    opts.hide = _hide_dirs(paths)
    results: list[Submission | None] = [None] * len(paths)
    done = 0
    lock = threading.Lock()

    def one(i: int) -> None:
        nonlocal done
        try:
            results[i] = grade_submission(paths[i], opts)
        except Exception as exc:  # a bug of the grader on this submission: say so, go on
            results[i] = Submission(student=paths[i].stem, path=str(paths[i]), gradable=False,
                                    reason=f"not gradable: grader error {type(exc).__name__}: {exc}",
                                    grader_error=f"{type(exc).__name__}: {exc}")
        with lock:
            done += 1
            if progress:
                progress(done, len(paths), results[i])

    if jobs <= 1:
        for i in range(len(paths)):
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, range(len(paths))))
    return results  # type: ignore[return-value]


# --- reports --------------------------------------------------------------------------------------

def _one_line(text: str, limit: int = 100) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(text: str) -> str:
    return str(text).strip().split("\n", 1)[0]


def format_table(subs: list[Submission]) -> str:
    rows = [("student", "exercise", "status", "points", "message")]
    for s in subs:
        if not s.gradable:
            rows.append((s.student, "-", "not gradable", "-", _one_line(s.reason)))
            continue
        for e in s.exercises:
            status = e.status + (f" ({e.reason})" if e.status == "fail" and e.reason else "")
            rows.append((s.student, e.id, status, f"{e.points}/{e.max_points}",
                         _one_line("all cases pass" if e.status == "pass" else _first_line(e.message))))
        flags = []
        if s.output.get("truncated"):
            flags.append(f"output truncated ({s.output['bytes']} bytes)")
        if s.leftover_processes_killed:
            flags.append(f"{s.leftover_processes_killed} leftover processes killed")
        rows.append((s.student, "TOTAL", "", f"{s.total}/{s.max_total}", "; ".join(flags)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for k, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 7)
    return "\n".join(line.rstrip() for line in lines)


def write_json(subs: list[Submission], path: Path, meta: dict | None = None) -> None:
    data = [dict(asdict(s), total=s.total, max_total=s.max_total) for s in subs]
    Path(path).write_text(json.dumps({"grader": meta or {}, "submissions": data}, indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")


def write_csv(subs: list[Submission], path: Path) -> None:
    ids: list[str] = []
    for s in subs:
        for e in s.exercises:
            if e.id not in ids:
                ids.append(e.id)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", *ids, "total", "gradable"])
        for s in subs:
            pts = {e.id: e.points for e in s.exercises}
            w.writerow([s.student, *(pts.get(i, "" if not s.gradable else 0) for i in ids),
                        s.total if s.gradable else "", "yes" if s.gradable else "no"])


class _Progress:
    def __init__(self, stream):
        self.stream = stream
        self.start = time.monotonic()

    def __call__(self, done: int, total: int, sub: Submission) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        text = (f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} graded "
                f"({time.monotonic() - self.start:.0f} s) {sub.student[:30]:<30}")
        self.stream.write(text + ("\n" if done == total else ""))
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m lib.grade",
        description="Grade exercise notebooks, each in its own sandboxed process with OS resource limits.",
        epilog="Exit status: 0 all graded; 1 some submissions not gradable; 2 grader error. "
               "Statuses: " + "; ".join(f"{k}: {v}" for k, v in STATUSES.items()),
    )
    parser.add_argument("submissions", nargs="+", type=Path,
                        help="notebooks (student = file name) or folders of notebooks (student = folder name)")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="grade N submissions at a time")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every detail as JSON")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write a gradebook: one row per student")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="grade on hidden cases drawn from seed S (default: the public cases of the notebook)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"wall-clock limit per cell and per exercise (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB, metavar="MIB",
                        help=f"address-space limit of each child (default {DEFAULT_MEMORY_MB})")
    parser.add_argument("--isolation", choices=["auto", "user-namespaces", "process-group"], default="auto",
                        help="use a weaker sandbox than the best available (for comparison and debugging)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no table on stdout")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        for out in (args.json, args.csv):  # fail before hours of grading, not after
            if out is not None and not out.resolve().parent.is_dir():
                raise FileNotFoundError(f"no such directory for {out}")
        opts = _default_options(args.timeout, seed=args.seed, memory_mb=args.memory,
                                force_mode=None if args.isolation == "auto" else args.isolation)
        progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
        started = time.monotonic()
        subs = grade(args.submissions, jobs=args.jobs, progress=progress, opts=opts)
        if not args.quiet:
            print(format_table(subs))
        meta = {"isolation": asdict(opts.isolation), "isolation_summary": opts.isolation.describe(),
                "timeout": opts.timeout, "seed": opts.seed, "memory_mb": opts.memory_mb,
                "max_processes": opts.max_processes, "max_file_mb": opts.max_file_mb, "jobs": args.jobs,
                "seconds": round(time.monotonic() - started, 2), "statuses": STATUSES}
        if args.json:
            write_json(subs, args.json, meta)
        if args.csv:
            write_csv(subs, args.csv)
        print(f"graded {len(subs)} submission(s) in {meta['seconds']:g} s; sandbox: {meta['isolation_summary']}",
              file=sys.stderr)
    except Exception as exc:  # the grader's own failure (a bad --json path, ...)
        print(f"grader error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if any(s.grader_error for s in subs):
        for s in subs:
            if s.grader_error:
                print(f"grader error on {s.student}: {s.grader_error}", file=sys.stderr)
        return 2
    return 0 if all(s.gradable for s in subs) else 1


if __name__ == "__main__":
    sys.exit(main())
