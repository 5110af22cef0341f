"""Checks on the built website (`make book` first; `make test` runs them after the build).

They catch what a reader would see: a page that failed to execute, a dead slider, math that
would load from a CDN, a page over its size budget.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
PAGE_BUDGET = 3_000_000  # bytes, COURSE.md §3


def pages() -> list[Path]:
    if not (HTML / "index.html").exists():
        return []
    return sorted(
        p
        for p in HTML.rglob("*.html")
        if "_static" not in p.parts and "mathjax" not in p.parts and "_sources" not in p.parts
    )


def content_pages() -> list[Path]:
    return [p for p in pages() if p.parent.name in {"chapters", "exercises"}]


class Resources(HTMLParser):
    """Collects the URLs a page *loads* (scripts, stylesheets, images), not the links it offers."""

    def __init__(self):
        super().__init__()
        self.loaded: list[str] = []
        self.icons: list[str] = []  # without one, the browser asks for /favicon.ico

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in {"script", "img", "iframe"} and a.get("src"):
            self.loaded.append(a["src"])
        if tag == "link" and a.get("rel") in {"stylesheet", "preload"} and a.get("href"):
            self.loaded.append(a["href"])
        if tag == "link" and a.get("rel") == "icon" and a.get("href"):
            self.icons.append(a["href"])


def test_site_was_built():
    assert (HTML / "index.html").exists(), "run `make book` first"
    assert content_pages(), "no chapter pages in _build/html"


@pytest.mark.parametrize("page", content_pages(), ids=lambda p: str(p.relative_to(HTML)))
def test_page(page: Path):
    text = page.read_text(encoding="utf-8")
    size = page.stat().st_size
    assert size <= PAGE_BUDGET, f"{page.name} is {size / 1e6:.1f} MB, over the {PAGE_BUDGET / 1e6:.0f} MB budget"
    parser = Resources()
    parser.feed(text)
    external = [u for u in parser.loaded if re.match(r"(https?:)?//", u)]
    assert not external, f"{page.name} loads external resources: {external[:3]}"
    mathjax = [u for u in parser.loaded if "mathjax" in u.lower()]
    assert mathjax and all("tex-chtml.js" in u for u in mathjax), f"{page.name}: local MathJax not loaded"
    mathjax_file = (page.parent / mathjax[0].split("?")[0]).resolve()
    assert mathjax_file.is_file(), f"{page.name} points MathJax at {mathjax[0]}, which does not exist"
    assert parser.icons and (page.parent / parser.icons[0].split("?")[0]).resolve().is_file(), (
        f"{page.name} declares no icon file that exists ({parser.icons}): set html.favicon in _config.yml"
    )
    assert "application/vnd.jupyter.widget-view+json" not in text, f"{page.name} embeds a dead live widget"
    # A directive MyST could not parse (e.g. a backtick in a backtick fence's title) shows as raw text.
    raw = re.findall(r"[`:]{3,}\{[a-z-]+\}", re.sub(r"<pre.*?</pre>", "", text, flags=re.S))
    assert not raw, f"{page.name} shows unparsed directive syntax: {raw[:3]}"
    if page.parent.name == "chapters":
        # An exception while rendering a figure (e.g. bad mathtext) does not stop execution; it
        # only shows as an error or stderr output, so look for those outputs explicitly.
        for bad in ('class="output traceback', 'class="output stderr', "Traceback (most recent call last)"):
            assert bad not in text, f"{page.name} shows an error or warning output ({bad})"


def test_chapters_show_static_widgets_and_math():
    chapter = HTML / "chapters" / "01-gradient-descent.html"
    text = chapter.read_text(encoding="utf-8")
    assert text.count("data-descent-widget") >= 2, "chapter 01 should show two static widgets"
    # figures are written to _images/; none would appear if the kernel ran a non-inline backend
    figures = re.findall(r'<img[^>]+src="\.\./_images/[^"]+\.png"', text)
    assert len(figures) >= 8, (
        f"chapter 01 shows only {len(figures)} figures: is MPLBACKEND set to a non-inline backend?"
    )
    assert 'class="math' in text, "no math in chapter 01"
    assert "In PyTorch and optax" in text
    assert "exercise" in text.lower()
