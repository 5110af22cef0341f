"""The grader's holes found by a hostile class (issue 19), each reproduced by a submission.

Every test here failed before its fix: a peer's staging copy readable when the course lives
under /tmp, symbolic links graded as the linked work, a malformed reply crashing the batch,
a flood of reply bytes held in the grader's memory, flaky answers passing by luck, no budget
per submission, terminal escapes and formulas reaching the reports, float32 passing for
float64.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_grade import GOOD_LR, ROOT, _gd_step, _learning_rates, _nb, _run, _write

from lib import exercises
from lib.checks import reference_result, run_exercise
from lib.grading import wire
from lib.grading.records import REPLY_CAP

# The hostile primitive: student code finds the worker object of its own process and writes
# on the reply pipe itself, with the request's nonce.
WORKER = """
import gc
def _worker():
    return next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "responses"))
"""


def _grade(tmp_path, paths, *args, cwd=None, timeout=300):
    out = tmp_path / "out.json"
    proc, seconds = _run(
        [*paths, "--json", out, "--csv", tmp_path / "out.csv", *args], cwd=cwd or tmp_path, timeout=timeout
    )
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    return proc, {s["student"]: s for s in data["submissions"]}, data, seconds


def _status(sub):
    return {e["id"]: e["status"] + (f":{e['reason']}" if e["status"] == "fail" else "") for e in sub["exercises"]}


# --- 1. a peer's staging copy ---------------------------------------------------------------------

PEEK = _learning_rates("""
    import glob, json, os, time
    mine = os.path.realpath(os.getcwd())
    roots = {os.path.dirname(os.path.dirname(mine)), os.path.dirname(mine), "/tmp", os.environ.get("TMPDIR", "/tmp")}
    end = time.monotonic() + 4
    while time.monotonic() < end:
        for root in roots:
            for path in glob.glob(os.path.join(root, "**", "*.ipynb"), recursive=True):
                if os.path.realpath(path).startswith(mine):
                    continue
                try:
                    cells = json.load(open(path))["cells"]
                except Exception:
                    continue
                for c in cells:
                    src = "".join(c["source"])
                    if src.startswith("def learning_rates") and "TOKEN" in src:
                        ns = {"np": np}
                        exec(src, ns)
                        return ns["learning_rates"](H)
        time.sleep(0.05)
    return 1.0, 1.0
""")


def test_a_child_cannot_read_a_peers_staging_copy(tmp_path):
    """With the course under /tmp (a fresh clone made with mktemp -d), a submission searching
    every staging folder while a peer is graded next to it finds nothing."""
    course = tmp_path / "course"  # under /tmp: the grader then cannot put a tmpfs over /tmp
    assert str(course).startswith("/tmp/"), "pytest's tmp_path is expected under /tmp"
    shutil.copytree(ROOT / "lib", course / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    batch = tmp_path / "batch"
    batch.mkdir()
    token = "alice-" + os.urandom(8).hex()  # only alice's copy of this run has it
    slow = _nb(
        **{"compare-with-gd-run": "import time\ntime.sleep(3)  # alice's staging copy stays a while"},
        learning_rates=_learning_rates(f"# {token}\n" + GOOD_LR),
    )
    _write(batch, {"alice": slow, "mallory": _nb(learning_rates=PEEK.replace("TOKEN", token))})
    proc, subs, data, _ = _grade(
        tmp_path, [batch / "alice.ipynb", batch / "mallory.ipynb"], "--jobs", "2", "--timeout", "20", cwd=course
    )
    if not data["grader"]["isolation"]["filesystem"]:
        pytest.skip("this platform gives no filesystem isolation (see the README)")
    assert subs["alice"]["total"] == 10
    assert _status(subs["mallory"])["learning_rates"] != "pass", subs["mallory"]["exercises"]


# --- 2. symbolic links ----------------------------------------------------------------------------


def test_symbolic_links_are_refused_with_a_reason(tmp_path):
    _write(tmp_path, {"alice": _nb()})
    bob = tmp_path / "bob"
    bob.mkdir()
    (bob / "homework.ipynb").symlink_to("../alice.ipynb")
    (tmp_path / "carol.ipynb").symlink_to("alice.ipynb")
    dave = tmp_path / "dave"
    dave.mkdir()
    _write(dave, {"mine": _nb(gd_step="def gd_step(params, grads, lr):\n    return params")})
    (dave / "borrowed").symlink_to(bob)  # a linked folder is not followed either
    proc, subs, _, _ = _grade(tmp_path, [tmp_path / "alice.ipynb", bob, tmp_path / "carol.ipynb", dave])
    assert subs["alice"]["total"] == 10
    assert not subs["bob"]["gradable"] and "symbolic link" in subs["bob"]["reason"], subs["bob"]
    assert not subs["carol"]["gradable"] and "symbolic link" in subs["carol"]["reason"], subs["carol"]
    assert subs["dave"]["gradable"] and subs["dave"]["total"] == 8 and "symbolic link" in subs["dave"]["reason"]
    assert "symbolic link" in proc.stdout


# --- 3. and 4. malformed, oversized and extra replies ------------------------------------------------


def _forged_reply(body: str):
    """gd_step writes ``body`` (a Python expression for one reply line, with ``n`` the nonce) on
    the reply pipe itself, then waits to be killed."""
    return _nb(
        gd_step=WORKER
        + textwrap.dedent(f"""
        def gd_step(params, grads, lr):
            import json, time
            w = _worker()
            n = w.nonce
            w.responses.write({body})
            w.responses.flush()
            time.sleep(60)
        """)
    )


def _forged_array_header() -> str:
    """A reply whose array header claims 10^16 float64 for 24 bytes of data."""
    import base64
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.zeros(3))
    raw = buf.getvalue()
    header_len = int.from_bytes(raw[8:10], "little")
    header = raw[10 : 10 + header_len].decode("latin1").replace("(3,)", "(100000000, 100000000)")
    header = header.rstrip("\n").ljust(header_len - 1 + 16) + "\n"  # keep the 64-byte alignment
    forged = raw[:8] + len(header).to_bytes(2, "little") + header.encode("latin1") + raw[10 + header_len :]
    return base64.b64encode(forged).decode()


def test_malformed_replies_cost_only_their_exercise(tmp_path):
    nested = '"[" * 200000 + "]" * 200000 + "\\n"'
    array = (
        f'json.dumps({{"op": "returned", "n": n, "value": {{"t": "nd", "b64": {_forged_array_header()!r}}}, '
        '"args": {"t": "tuple", "v": []}, "kwargs": {"t": "dict", "v": []}}) + "\\n"'
    )
    two = 'json.dumps({"op": "returned", "n": n, "value": {"t": "none"}}) + "\\n" + "{}\\n"'
    subs_ = {
        "nested": _forged_reply(nested),
        "forged_array": _forged_reply(array),
        "two_replies": _forged_reply(two),
        "solved": _nb(),
    }
    _write(tmp_path, subs_)
    proc, subs, _, seconds = _grade(
        tmp_path, [tmp_path / f"{k}.ipynb" for k in subs_], "--jobs", "2", "--timeout", "20"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]  # not 2: the grader itself never failed
    for name in ("nested", "forged_array", "two_replies"):
        status = _status(subs[name])
        assert status["gd_step"] == "crashed", (name, subs[name]["exercises"])
        assert all(v == "pass" for k, v in status.items() if k != "gd_step"), (name, status)
        assert subs[name]["total"] == 8
    assert subs["solved"]["total"] == 10
    assert seconds < 60  # killed at once, not after the 60 s sleep


def test_a_flood_of_reply_bytes_is_not_held_by_the_grader(tmp_path):
    """A child writing a 400 MB line (and one writing thousands of lines) is killed once it
    passes the reply cap; the grader's own memory stays small."""
    flood = _nb(
        gd_step=WORKER
        + textwrap.dedent("""
        def gd_step(params, grads, lr):
            import os
            w = _worker()
            chunk = b"x" * (1 << 20)
            for _ in range(400):
                os.write(w.responses.fileno(), chunk)
        """)
    )
    lines = _nb(
        gd_step=WORKER
        + textwrap.dedent("""
        def gd_step(params, grads, lr):
            import os
            w = _worker()
            for _ in range(100000):
                os.write(w.responses.fileno(), b'{"op": "noise"}\\n' * 64)
        """)
    )
    _write(tmp_path, {"flood": flood, "lines": lines, "solved": _nb()})
    script = (
        "import resource, sys\nfrom lib.grading.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )

    def peak_mb(*names):
        out = tmp_path / f"{names[0]}.json"
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                *(str(tmp_path / f"{n}.ipynb") for n in names),
                "--json",
                str(out),
                "--timeout",
                "30",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        subs = {s["student"]: s for s in json.loads(out.read_text())["submissions"]}
        return int(proc.stderr.split("MAXRSS_KB")[1].split()[0]) / 1024, subs

    baseline, _ = peak_mb("solved")  # the grader's own imports (NumPy, SymPy, nbformat ...)
    flooded, subs = peak_mb("flood", "lines")
    for name in ("flood", "lines"):
        assert _status(subs[name])["gd_step"] == "crashed", subs[name]["exercises"]
        assert subs[name]["total"] == 8
    assert flooded < baseline + 48, f"peak memory {flooded:.0f} MB flooded vs {baseline:.0f} MB for a normal notebook"


def test_every_real_reply_fits_well_within_the_cap():
    """The cap is set from what the course's exercises need: every reference result with its
    inputs, public and hidden, encodes to less than an eighth of it."""
    biggest = 0
    for ex in exercises.all_exercises().values():
        for seed in (None, 1, 2):
            for case in ex.make_cases(seed):
                reply = {
                    "op": "returned",
                    "n": "0" * 16,
                    "value": wire.to_plain(reference_result(ex, case)),
                    "args": wire.encode(tuple(case.args), lambda x, p: {"t": "lazy"}),
                    "kwargs": wire.encode(dict(case.kwargs), lambda x, p: {"t": "lazy"}),
                }
                biggest = max(biggest, len(json.dumps(reply)))
    assert biggest < REPLY_CAP / 8, biggest


# --- 5. flaky answers --------------------------------------------------------------------------------


def test_a_nondeterministic_answer_never_passes_by_luck():
    """An answer right with probability 1/2 per call: called twice per case on fresh inputs, it
    is reported nondeterministic in every one of 64 tries (it would pass 1 in 2^k otherwise)."""
    ex = exercises.get("learning_rates")
    statuses = set()
    for trial in range(64):
        rng = np.random.default_rng(trial)

        def flaky(H, _rng=rng):
            e = np.linalg.eigvalsh(H)
            lr = 2 / e[-1], 2 / (e[0] + e[-1])
            return lr if _rng.random() < 0.5 else (lr[0] * 1.01, lr[1])

        statuses.add(run_exercise(ex.id, flaky).status)
    assert statuses <= {"nondeterministic", "fail"} and "nondeterministic" in statuses


# --- 6. one budget per submission ------------------------------------------------------------------


def test_a_slow_submission_stops_at_its_budget(tmp_path):
    slow = _nb(
        **{"compare-with-gd-run": "\n".join(["import time"] + ["time.sleep(0.4)"] * 20)},
        learning_rates=_learning_rates("import time\ntime.sleep(0.9)\n" + GOOD_LR),
        gd_step=_gd_step("import time\ntime.sleep(0.9)\nreturn tree_map(lambda p, g: p - lr * g, params, grads)"),
    )
    _write(tmp_path, {"slow": slow})
    proc, subs, data, seconds = _grade(tmp_path, [tmp_path / "slow.ipynb"], "--timeout", "10", "--budget", "6")
    sub = subs["slow"]
    assert data["grader"]["budget"] == 6
    assert sub["seconds"] < 6 + 8, sub["seconds"]
    timeouts = [e for e in sub["exercises"] if e["status"] == "timeout"]
    assert timeouts and all("budget" in e["message"] for e in timeouts), sub["exercises"]
    assert len(sub["exercises"]) == 5  # every exercise is reported, none lost


# --- 7. report injection -----------------------------------------------------------------------------


def test_student_text_cannot_inject_into_the_reports(tmp_path):
    evil = "\x1b[2K\x1b[1A\r\x1b[32mpass 2/2 all cases pass\x1b[0m"
    _write(
        tmp_path,
        {
            "eve\nFAKE  gd_step  pass  2 of 2": _nb(learning_rates=_learning_rates(f"raise ValueError({evil!r})")),
            '=HYPERLINK("x")': _nb(),
            "\u202eevil": _nb(),
        },
    )
    paths = sorted(tmp_path.glob("*.ipynb"))
    proc, subs, data, _ = _grade(tmp_path, paths)
    assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
    assert not any(line.startswith("FAKE") for line in proc.stdout.splitlines())
    assert "\x1b" not in (tmp_path / "out.json").read_text(encoding="utf-8").encode().decode("unicode_escape")
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        cells = [row[0] for row in csv.reader(f)][1:]
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells), cells
    assert any(c.startswith("'=HYPERLINK") for c in cells) and all("\n" not in c for c in cells)


# --- 8. dtype ------------------------------------------------------------------------------------------


def test_float32_where_float64_is_expected_fails_as_dtype():
    def gd_step32(params, grads, lr):
        from lib.tree import tree_map

        return tree_map(lambda p, g: (p - lr * g).astype(np.float32), params, grads)

    result = run_exercise("gd_step", gd_step32)
    assert result.status == "fail" and result.reason == "dtype", result.message
    assert "float64" in result.message and "float32" in result.message


def test_the_readme_documents_what_the_sandbox_hides_and_what_is_advisory():
    readme = (ROOT / "README.md").read_text()
    for phrase in ("--budget", "nondeterministic", "advisory", "symbolic link", "does not hide"):
        assert phrase in readme, phrase
    assert os.path.exists(ROOT / "lib" / "grading" / "sandbox.py")
