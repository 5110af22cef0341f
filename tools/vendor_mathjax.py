"""Install MathJax 3 into _vendor/mathjax so the book serves its own math renderer.

The book must work offline and never load a CDN (COURSE.md §1). This script fetches a pinned
MathJax 3 release from a package registry: the npm package ``mathjax`` when ``npm`` is on
PATH, otherwise the PyPI wheel ``django-static-mathjax`` (which ships the same es5 build).
It copies the ``es5`` directory to ``_vendor/mathjax``; ``_config.yml`` publishes ``_vendor``
at the site root (``html_extra_path``) and points ``mathjax_path`` at ``mathjax/tex-chtml.js``.

Usage: python tools/vendor_mathjax.py [DEST]   (idempotent; `make` calls it)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

NPM_SPEC = "mathjax@3.2.2"
PIP_SPEC = "django-static-mathjax==3.2.2.1"
ENTRY = "tex-chtml.js"


def from_npm(tmp: Path) -> Path:
    subprocess.run(["npm", "pack", NPM_SPEC, "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    (tarball,) = tmp.glob("mathjax-*.tgz")
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/es5/")]
        tar.extractall(tmp, members=members, filter="data") if sys.version_info >= (3, 12) else tar.extractall(
            tmp, members=members
        )  # noqa: S202 - registry tarball, es5/ only
    return tmp / "package" / "es5"


def from_pip(tmp: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(tmp), PIP_SPEC], check=True
    )
    (wheel,) = tmp.glob("django_static_mathjax-*.whl")
    prefix = "mathjax/static/mathjax/es5/"
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                target = tmp / "es5" / name[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(name))
    return tmp / "es5"


def main(dest: str = "_vendor/mathjax") -> int:
    dest_path = Path(dest)
    if (dest_path / ENTRY).is_file():
        return 0
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        try:
            src = from_npm(tmp) if shutil.which("npm") else from_pip(tmp)
        except (subprocess.CalledProcessError, ValueError, OSError) as exc:
            print(
                f"vendor_mathjax: could not fetch MathJax 3 ({exc}). The book needs it to typeset "
                f"math; check that npm or pip can reach its registry and run `make book` again.",
                file=sys.stderr,
            )
            return 1
        if not (src / ENTRY).is_file():
            print(f"vendor_mathjax: the downloaded package has no es5/{ENTRY}", file=sys.stderr)
            return 1
        if dest_path.exists():
            shutil.rmtree(dest_path)
        dest_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dest_path)
    print(f"vendor_mathjax: installed MathJax 3 into {dest_path}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
