"""One sandboxed child process and its protocol: start it, send it a message, read its reply.

The child (:mod:`lib.grading.worker`) runs the student's code; this side only reads its pipes,
with deadlines and size caps, and kills it (and everything it started) when it is done, late or
misbehaving.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lib.grading.records import OUTPUT_CAP, REPLY_CAP, ROOT, START_TIMEOUT, WORKER, Options

__all__ = ["Child", "ChildLost", "Output", "staging_root"]

_STAGING_ROOT: Path | None = None
_STAGING_LOCK = threading.Lock()


def staging_root() -> Path:
    """The one folder (per grader process) that holds every child's staging copy; a sandboxed
    child covers it, so that it sees no peer's submission (see :func:`lib.grading.sandbox.confine`)."""
    global _STAGING_ROOT
    with _STAGING_LOCK:
        if _STAGING_ROOT is None or not _STAGING_ROOT.is_dir():
            _STAGING_ROOT = Path(tempfile.mkdtemp(prefix="descent-grade-"))
            atexit.register(shutil.rmtree, _STAGING_ROOT, True)
        return _STAGING_ROOT


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
        return {
            "stdout": self.kept["stdout"].decode("utf-8", "replace"),
            "stderr": self.kept["stderr"].decode("utf-8", "replace"),
            "bytes": self.bytes,
            "truncated": self.truncated,
        }


_MEMORY_WORDS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory", "Unable to allocate")


class Child:
    """One sandboxed worker process and the pipes to it."""

    def __init__(self, notebook_bytes: bytes, filename: str, opts: Options, output: Output):
        from lib.grading import sandbox as _sandbox

        self.opts, self.output = opts, output
        self.token = secrets.token_hex(12)
        self.tmp = Path(tempfile.mkdtemp(prefix="child-", dir=staging_root()))
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
            "root": str(ROOT),
            "mode": iso.mode,
            "staging": str(staging),
            "staging_root": str(staging_root()),
            "hide": opts.hide,
            "cgroup": str(self.cgroup.path) if self.cgroup else None,
            "request_fd": req_r,
            "response_fd": resp_w,
            "limits": {
                "memory": opts.memory_mb * 2**20,
                "fsize": opts.max_file_mb * 2**20,
                "nproc": opts.max_processes,
                "nofile": 256,
                "core": 0,
                "cpu": int(max(10, opts.timeout * 4)),
            },
        }
        # the child's private writable directory: /tmp/work on its own tmpfs, else <staging root>/work
        # (on a private tmpfs over the staging root, see sandbox.confine), else the staging copy
        if iso.filesystem:
            home = "/tmp/work" if not _sandbox.needs_tmp() else str(staging_root() / "work")
        else:
            home = str(staging)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "TMPDIR": home,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONNOUSERSITE": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{home}/mpl",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1",
            _sandbox.MARKER: self.token,
        }
        argv = _sandbox.command(iso, [sys.executable, "-I", str(WORKER), json.dumps(config)])
        try:
            self.proc = subprocess.Popen(
                argv,
                cwd=str(staging),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(req_r, resp_w),
                start_new_session=True,
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.selector = selectors.DefaultSelector()
        for fd, name in (
            (self.proc.stdout.fileno(), "stdout"),
            (self.proc.stderr.fileno(), "stderr"),
            (self.resp_r, "protocol"),
        ):
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
        """The child's reply to the request tagged ``nonce``: one JSON object on one line.

        The protocol is one reply per request, so anything else is a violation that kills the
        child (status "crashed", costing only the exercise or cell in progress): a line that is
        not a JSON object (including one nested so deeply that parsing it recurses too far), a
        reply with another nonce, more than one line at a time, or a line longer than
        ``REPLY_CAP`` bytes. At most ``REPLY_CAP + 1`` bytes of it are ever held here.
        """
        while True:
            newline = self.buffer.find(b"\n")
            if newline >= 0:
                if newline + 1 != len(self.buffer):
                    self.kill()
                    raise ChildLost("crashed", "the child wrote more than one reply to one request")
                line = bytes(self.buffer[:newline])
                self.buffer.clear()
                try:
                    message = json.loads(line)
                except (ValueError, RecursionError, MemoryError):
                    self.kill()
                    raise ChildLost("crashed", "the child sent a reply that is not valid JSON") from None
                if not isinstance(message, dict) or message.get("n") != nonce:
                    self.kill()
                    raise ChildLost("crashed", "the child sent a message that answers no request")
                return message
            if len(self.buffer) > REPLY_CAP:
                self.kill()
                raise ChildLost(
                    "crashed",
                    f"the reply was longer than {REPLY_CAP // 2**10} KiB (return the "
                    "result the exercise asks for, not a larger object)",
                )
            if "protocol" not in self.open:
                raise self._lost(starting)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise ChildLost("timeout", "")
            for key, _ in self.selector.select(timeout=min(remaining, 1.0)):
                room = REPLY_CAP + 1 - len(self.buffer) if key.data == "protocol" else 1 << 20
                data = self._read_ready(key, max(room, 1))
                if not data:
                    continue
                if key.data == "protocol":
                    self.buffer += data
                else:
                    self.output.add(key.data, data)

    def _read_ready(self, key, limit: int = 1 << 20) -> bytes | None:
        """Read what a ready pipe holds: ``None`` if nothing after all, ``b""`` once the pipe is
        closed (it is then unregistered and dropped from ``self.open``)."""
        try:
            data = os.read(key.fd, limit)
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
                # protocol bytes after the child is lost answer nothing: dropped, never held

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
        from lib.grading import sandbox as _sandbox

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
