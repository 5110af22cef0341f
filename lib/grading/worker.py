"""The grader's child process: runs one student's code and serves calls of their functions.

    python -I lib/grading/worker.py CONFIG_JSON

Started by :mod:`lib.grading.child` (never by hand), usually as PID 1 of new PID / mount / network
namespaces. Before it reads the submission it confines itself (:func:`lib.grading.sandbox.confine`:
read-only file system, private ``/tmp`` working directory holding only the copy of the
submission, resource limits, no capabilities). It then answers requests, one JSON line each
way, on two pipes whose descriptors are in the config:

``{"op": "exec", "index": i, "source": ...}``
    run one code cell in the notebook's namespace -> ``{"op": "executed", "error": ...}``
``{"op": "call", "function": f, "exercise": id, "seed": s, "args": [...], "kwargs": {...}}``
    call the student's function on decoded inputs -> ``{"op": "returned", "value": ...,
    "args": ..., "kwargs": ...}`` (the inputs as they are after the call, to detect mutation),
    ``{"op": "raised", "type": ..., "message": ..., "where": ...}``, ``{"op": "missing"}`` or
    ``{"op": "not_callable", "what": ...}``

Values cross as plain data (:mod:`lib.grading.wire`). The first message, ``{"op": "ready"}``, is sent
before any student code runs; after that nothing this process says is trusted by the parent:
it only ever reports values, which the parent compares with its own reference results.
"""

from __future__ import annotations

import json
import linecache
import os
import sys
import traceback


def _writable(directory: str) -> bool:
    try:
        with open(os.path.join(directory, ".descent-probe"), "w"):
            pass
        os.unlink(os.path.join(directory, ".descent-probe"))
        return True
    except OSError:
        return False


class _NoShell:
    """What ``get_ipython()`` returns here: magics and shell commands do nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _needs_ipython(source: str) -> bool:
    for line in source.splitlines():
        s = line.strip()
        if s.startswith(("%", "!")) or (s.endswith("?") and not s.startswith("#")):
            return True
    return False


def _short_error(exc: BaseException, filename: str) -> str:
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return f"SyntaxError: {exc.msg}{where}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    where = f" (line {frames[-1].lineno})" if frames else ""
    try:
        text = str(exc).strip().splitlines()
    except Exception:
        text = []
    return f"{type(exc).__name__}{': ' + text[0][:150] if text else ''}{where}"


class Worker:
    """The child's side of the protocol: run a cell, call a function, send back plain data."""

    def __init__(self, requests, responses):
        self.requests, self.responses = requests, responses
        self.namespace = {"__name__": "__main__", "get_ipython": lambda: _NoShell()}
        self._cases: dict = {}
        self._transform = None
        self.nonce = None

    def send(self, **message) -> None:
        message["n"] = self.nonce  # the request's nonce: the parent ignores replies without it
        self.responses.write(json.dumps(message, allow_nan=True) + "\n")
        self.responses.flush()

    # -- cells ----------------------------------------------------------------------------
    def exec_cell(self, index: int, source: str) -> None:
        filename = f"<cell {index}>"
        try:
            if _needs_ipython(source):
                if self._transform is None:
                    from IPython.core.inputtransformer2 import TransformerManager

                    self._transform = TransformerManager().transform_cell
                source = self._transform(source)
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), self.namespace)
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything, even SystemExit
            self.send(op="executed", error=_short_error(exc, filename), exc_type=type(exc).__name__)
            return
        self.send(op="executed", error=None)

    # -- calls ----------------------------------------------------------------------------
    def _lazy(self, ref: dict):
        from lib import exercises

        key = (ref["exercise"], ref.get("seed"))
        if key not in self._cases:
            self._cases[key] = exercises.get(ref["exercise"]).make_cases(ref.get("seed"))
        case = self._cases[key][int(ref["case"])]
        path = list(ref["path"])
        obj = case.args if path[0] == "args" else case.kwargs
        for step in path[1:]:
            obj = obj[step]
        return obj.build()

    def call(self, msg: dict) -> None:
        from lib.checks import _where
        from lib.grading import wire as _wire

        name = msg["function"]
        if name not in self.namespace:
            self.send(op="missing")
            return
        fn = self.namespace[name]
        if not callable(fn) or isinstance(fn, type):
            self.send(op="not_callable", what=type(fn).__name__[:80])
            return
        args = _wire.decode(msg["args"], self._lazy)
        kwargs = _wire.decode(msg["kwargs"], self._lazy)
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            try:
                text = str(exc)[:1000]
            except Exception:
                text = ""
            try:
                where = _where(exc)
            except Exception:
                where = ""
            self.send(op="raised", type=type(exc).__name__[:80], message=text, where=where[:300])
            return
        self.send(
            op="returned",
            value=_wire.to_plain(value),
            args=_wire.to_plain(tuple(args)),
            kwargs=_wire.to_plain(dict(kwargs)),
        )

    def serve(self) -> None:
        for line in self.requests:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            op = msg.get("op")
            self.nonce = msg.get("n")
            if op == "exec":
                self.exec_cell(int(msg["index"]), str(msg["source"]))
            elif op == "call":
                self.call(msg)
            elif op == "bye":
                break


def main() -> int:
    """Confine this process, then answer the parent's requests until ``bye``."""
    config = json.loads(sys.argv[1])
    sys.path.insert(0, config["root"])
    from lib.grading import sandbox as _sandbox

    workdir = _sandbox.confine(
        config["mode"],
        config["staging"],
        config["hide"],
        config.get("cgroup"),
        config["limits"],
        config.get("staging_root"),
    )
    if config.get("selftest"):  # the parent's probe: can this platform confine a child this way?
        import numpy  # noqa: F401  (imports still work under the limits)

        writable = [d for d in ("/", "/usr", config["root"]) if config["mode"] != "process-group" and _writable(d)]
        print(json.dumps({"ok": not writable, "cwd": workdir, "writable": writable}))
        return 0
    # everything the protocol needs, imported before the student's code can interfere
    import numpy  # noqa: F401

    from lib.grading import wire as _wire  # noqa: F401

    requests = os.fdopen(config["request_fd"], "r", encoding="utf-8", newline="\n")
    responses = os.fdopen(config["response_fd"], "w", encoding="utf-8", newline="\n")
    worker = Worker(requests, responses)
    worker.send(op="ready", pid=os.getpid(), cwd=workdir, files=sorted(os.listdir(workdir)))
    worker.serve()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BaseException as exc:  # noqa: BLE001 - say why on stderr, the parent shows it
        if not isinstance(exc, SystemExit):
            print(f"grading worker failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            os._exit(3)
        raise
