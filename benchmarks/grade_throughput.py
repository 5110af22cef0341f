"""Throughput of the grader: N copies of a chapter's solved notebook, graded with --jobs J.

    .venv/bin/python benchmarks/grade_throughput.py [--copies 100] [--jobs 2] [--chapter 01-gradient-descent]

Prints the wall-clock time and checks that every copy got full marks. Not part of the test
suite (it takes minutes); the goal is 100 copies in at most 3 minutes on 2 cores.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--chapter", default="01-gradient-descent")
    args = parser.parse_args()
    source = ROOT / "exercises" / "source" / f"{args.chapter}.ipynb"
    with tempfile.TemporaryDirectory(prefix="descent-bench-") as tmp:
        tmp = Path(tmp)
        paths = []
        for i in range(args.copies):
            path = tmp / f"student{i:03d}.ipynb"
            shutil.copyfile(source, path)
            paths.append(str(path))
        start = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "lib.grade",
                *paths,
                "--jobs",
                str(args.jobs),
                "--quiet",
                "--json",
                str(tmp / "out.json"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - start
        subs = json.loads((tmp / "out.json").read_text())["submissions"]
    full = sum(s["total"] == s["max_total"] > 0 for s in subs)
    print(
        f"{args.copies} copies of {args.chapter}, --jobs {args.jobs}: {seconds:.1f} s "
        f"({seconds / args.copies:.2f} s per notebook); {full}/{len(subs)} with full marks; exit {proc.returncode}"
    )
    print(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "")
    return 0 if proc.returncode == 0 and full == len(subs) else 1


if __name__ == "__main__":
    sys.exit(main())
