"""Execute the lessons into the book's execution cache, one notebook per core.

    python tools/execute_notebooks.py [--jobs N] [NOTEBOOK ...]

``make book`` runs this before ``jupyter-book build``: the build (``execute_notebooks: cache``)
then finds every unchanged lesson in ``_build/.jupyter_cache`` and only renders it, so a cold
build executes the chapters in parallel instead of one after the other, and a warm one executes
nothing. The notebooks run exactly as the build would run them: in their own folder, with the
environment of the build (``DESCENT_WIDGETS=static``, ``OPENBLAS_NUM_THREADS=1``, see ``_ext/descent_build.py``) and the
timeout of ``_config.yml``. A notebook that fails is left out of the cache; the build then runs
it again and fails with its traceback (``-W``), so nothing is hidden here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"
#: The fingerprint of the library the cached notebooks ran with (jupyter-cache keys a notebook on
#: its own cells only, so a change in lib/ would otherwise leave stale outputs and pages).
LIB_STAMP = ROOT / "_build" / ".lib-hash"
BOOK_OK = ROOT / "_build" / ".book-ok"  # the Makefile's stamp of a passing build (see `make book`)


def lib_hash() -> str:
    """SHA-256 over every file of ``lib/`` (paths and contents) and ``_config.yml``."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "lib").rglob("*.py")) + [ROOT / "_config.yml"]:
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _timeout() -> int:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return int(config.get("execute", {}).get("timeout", 180))


def _run(path: str, timeout: int) -> tuple[str, float, str | None]:
    """Execute one notebook in its folder; cache it on success. Returns (path, seconds, error)."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(
        nb, cwd=str(Path(path).parent), timeout=timeout, allow_errors=False, meta_override=True
    )
    if result.err is not None:
        return path, result.time, f"{type(result.err).__name__}: {str(result.err).splitlines()[0][:200]}"
    cache = get_cache(str(CACHE))
    record = cache.add_nb_to_project(path)
    cache.cache_notebook_bundle(
        CacheBundleIn(nb, record.uri, data={"execution_seconds": result.time}), check_validity=False, overwrite=True
    )
    return path, result.time, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="default: every chapters/*.ipynb")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    paths = [str(Path(p).resolve()) for p in args.notebooks] or sorted(
        str(p) for p in (ROOT / "chapters").glob("*.ipynb")
    )
    os.environ["DESCENT_WIDGETS"] = "static"  # what the book build sets (see _ext/descent_build.py)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # likewise: one BLAS thread per kernel
    os.environ.pop("MPLBACKEND", None)  # the lessons' figures need the inline backend
    CACHE.parent.mkdir(parents=True, exist_ok=True)

    from jupyter_cache import get_cache

    cache = get_cache(str(CACHE))
    fingerprint = lib_hash()
    if LIB_STAMP.exists() and LIB_STAMP.read_text() != fingerprint:
        print("execute_notebooks: lib/ or _config.yml changed since the cached runs: running every notebook again")
        cache.clear_cache()
        cache = get_cache(str(CACHE))
        BOOK_OK.unlink(missing_ok=True)  # and the build rewrites every page (make book: --all)
    LIB_STAMP.write_text(fingerprint)
    todo = []
    for p in paths:
        import nbformat

        try:
            cache.match_cache_notebook(nbformat.read(p, as_version=4))
        except KeyError:
            todo.append(p)
    if not todo:
        print(f"execute_notebooks: all {len(paths)} notebooks are cached")
        return 0
    start = time.monotonic()
    timeout = _timeout()
    print(f"execute_notebooks: {len(todo)} of {len(paths)} notebooks to run, {args.jobs} at a time", flush=True)
    failed = 0
    with ProcessPoolExecutor(max_workers=max(1, min(args.jobs, len(todo)))) as pool:
        for path, seconds, error in pool.map(_run, todo, [timeout] * len(todo)):
            name = Path(path).relative_to(ROOT)
            if error:
                failed += 1
                print(
                    f"  {name}: FAILED after {seconds:.1f} s ({error}); the build will rerun it and report", flush=True
                )
            else:
                print(f"  {name}: {seconds:.1f} s", flush=True)
    print(f"execute_notebooks: done in {time.monotonic() - start:.1f} s", flush=True)
    return 0  # failures are reported by the build itself (-W), with their tracebacks


if __name__ == "__main__":
    sys.exit(main())
