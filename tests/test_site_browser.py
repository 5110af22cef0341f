"""Checks on the built website in a real browser (`make book` first; `make test` runs them).

Each page of _build/html is served on 127.0.0.1 and opened in Debian's headless chromium, driven
by playwright. Every request for another address is aborted and reported. On each page:

- MathJax typesets every formula: no ``mjx-merror`` and no raw TeX left in the text;
- every internal link resolves, to a file that exists and, for ``#anchor`` links, to an element
  with that id;
- every static widget changes its frame when a slider is moved with the keyboard;
- no script error.

``make browser`` installs both parts: playwright into .venv (pip) and chromium (apt-get). A
machine where they cannot be installed gets a skip that says which part is missing and how to
install it (``make test-site`` runs pytest with ``-rs``, so the reason is printed).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = Path(os.environ.get("DESCENT_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
MATHJAX_TIMEOUT_MS = 30_000

# Text a reader should never see outside code: TeX delimiters or commands that MathJax did not
# typeset. Code, outputs and MathJax's own output are excluded before matching.
RAW_TEX = re.compile(
    r"\\\(|\\\)|\\\[|\\\]|\$\$|\\(?:begin|end)\{|\\(?:frac|sum|mathbf|mathrm|nabla|alpha|eta|theta|lambda|sqrt)\b"
    r"|\$[^$\n]*[\\^_][^$\n]*\$"
)

# Text nodes of the rendered page outside code, outputs and typeset math.
VISIBLE_TEXT_JS = """() => {
  const skip = 'pre, code, kbd, samp, script, style, textarea, mjx-container, .highlight, '
             + '.output, .cell_output, mjx-assistive-mml, .MathJax';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip)) continue;
    const t = n.textContent.trim();
    if (t) out.push(t);
  }
  return out;
}"""


# A script error that is not the course's: jupyter-book 1.0.4 with `launch_buttons: thebe: true`
# writes sphinx-thebe's config <script> (const THEBE_JS_URL = ...) twice into every page, so the
# second copy throws. Nothing the reader sees depends on it.
KNOWN_SCRIPT_ERRORS = ["Identifier 'THEBE_JS_URL' has already been declared"]

# Problems found and not yet fixed, page -> substrings of the problem. Each entry must still
# occur (the test fails when one is gone, so that it is removed here); all others fail.
KNOWN_PROBLEMS: dict[str, list[str]] = {}


def _widget_problems(page, widget, w: int) -> list[str]:
    """Move each slider of one static widget with the keyboard (End, or Home when at the end):
    its label must change, and so must the frame, either from the current setting or, since a
    control can be inert at some settings of the others, after all other sliders went to End."""
    problems = []
    img = widget.locator("img").first
    sliders = widget.locator("input[type=range]")
    outputs = widget.locator("output")
    n = sliders.count()

    def press(i: int, key: str) -> None:
        sliders.nth(i).focus()
        page.keyboard.press(key)

    for s in range(n):
        sliders.nth(s).scroll_into_view_if_needed()
        changed = label_stuck = False
        for attempt in range(2):
            if attempt == 1:
                for o in range(n):
                    if o != s:
                        press(o, "End")
            src, label = img.get_attribute("src"), outputs.nth(s).inner_text()
            key = "Home" if sliders.nth(s).evaluate("e => e.value === e.max") else "End"
            press(s, key)
            new_src, new_label = img.get_attribute("src"), outputs.nth(s).inner_text()
            if new_label == label:
                problems.append(f"widget {w}, slider {s}: its value label did not change")
                label_stuck = True
                break
            if new_src != src:
                changed = True
                break
        if not changed and not label_stuck:
            problems.append(f"widget {w}, slider {s} ({label} -> {new_label}): the frame never changed")
    return problems


def pages() -> list[Path]:
    if not (HTML / "index.html").exists():
        return []
    return sorted(
        p
        for p in HTML.rglob("*.html")
        if "_static" not in p.parts and "mathjax" not in p.parts and "_sources" not in p.parts
    )


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed in this Python: run `make browser`"
    if not CHROMIUM.is_file():
        return f"chromium is not at {CHROMIUM}: run `make browser` (apt-get install chromium) or set DESCENT_CHROMIUM"
    return None


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in {"id", "name"} and v:
                self.ids.add(v)


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def _target(url_path: str) -> Path:
    p = HTML / urllib.parse.unquote(url_path).lstrip("/")
    return p / "index.html" if p.is_dir() else p


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").exists():
        pytest.fail("run `make book` first: _build/html/index.html is missing")
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        outside: list[str] = []

        def route(r):
            if r.request.url.startswith(origin + "/") or r.request.url.startswith("data:"):
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        yield context, origin, outside
        browser.close()
    server.shutdown()


@pytest.mark.parametrize("path", pages(), ids=lambda p: str(p.relative_to(HTML)))
def test_page_in_browser(site, path: Path):
    context, origin, outside = site
    rel = path.relative_to(HTML).as_posix()
    redirect = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', path.read_text(encoding="utf-8"))
    if redirect:  # index.html: a redirect stub, nothing to render
        assert (path.parent / redirect.group(1)).is_file(), f"{rel} redirects to a missing page {redirect.group(1)}"
        return
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    before = len(outside)
    problems: list[str] = []
    try:
        page.goto(f"{origin}/{rel}", wait_until="load")

        # math
        if page.evaluate("() => !!window.MathJax"):
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=MATHJAX_TIMEOUT_MS
            )
            page.evaluate("() => MathJax.startup.promise")
            merror = page.evaluate("() => document.querySelectorAll('mjx-merror').length")
            if merror:
                problems.append(f"{merror} MathJax errors (mjx-merror)")
        raw = [t for t in page.evaluate(VISIBLE_TEXT_JS) if RAW_TEX.search(t)]
        if raw:
            problems.append(f"raw TeX in the text: {[t[:80] for t in raw[:3]]}")

        # internal links and anchors
        here = urllib.parse.urlsplit(page.url).path
        for href in sorted(set(page.evaluate("() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"))):
            if not href.startswith(origin + "/"):
                continue
            parts = urllib.parse.urlsplit(href)
            target = _target(parts.path)
            if not target.is_file():
                problems.append(f"link to a missing file: {href[len(origin) :]}")
                continue
            frag = urllib.parse.unquote(parts.fragment)
            if not frag or target.suffix != ".html":
                continue
            if parts.path == here:
                found = page.evaluate(
                    "f => !!(document.getElementById(f) || document.getElementsByName(f).length)", frag
                )
            else:
                found = frag in _ids(target)
            if not found:
                problems.append(f"link to a missing anchor: {href[len(origin) :]}")

        # static widgets: moving a slider shows another frame
        expected = path.read_text(encoding="utf-8").count('data-descent-widget="static"')
        widgets = page.locator('[data-descent-widget="static"]')
        if widgets.count() != expected:
            problems.append(f"{widgets.count()} static widgets in the page, {expected} in the HTML")
        for w in range(widgets.count()):
            problems += _widget_problems(page, widgets.nth(w), w)

        errors = [e for e in errors if not any(k in e for k in KNOWN_SCRIPT_ERRORS)]
        if errors:
            problems.append(f"script errors: {errors[:3]}")
        left = outside[before:]
        if left:
            problems.append(f"requests outside 127.0.0.1 (aborted): {left[:3]}")
    finally:
        page.close()
    known = KNOWN_PROBLEMS.get(rel, [])
    for k in known:
        if not any(k in p for p in problems):
            problems.append(f"the known problem {k!r} is gone: remove it from KNOWN_PROBLEMS")
    problems = [p for p in problems if not any(k in p for k in known)]
    assert not problems, f"{rel}:\n  " + "\n  ".join(problems)
