"""Screenshots of built pages in headless Chromium, for looking at the book as a reader does.

Serves _build/html on localhost, opens each page in Debian's chromium (headless, no network
but loopback), waits for MathJax, and writes full-page PNGs to screenshots/. With
``--widgets`` it also moves every static widget's sliders and saves a second shot of each
widget, to show that the frames change.

Needs: `apt-get install chromium` and `pip install playwright` (a developer tool, not in
requirements.txt; the system browser is used, nothing is downloaded).

Usage: python tools/screenshots.py [PAGE ...] [--widgets] [--out screenshots]
       PAGE is a path under _build/html, e.g. chapters/01-gradient-descent.html
"""

from __future__ import annotations

import argparse
import functools
import http.server
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "pages",
        nargs="*",
        default=[
            "chapters/00-welcome.html",
            "chapters/notation.html",
            "chapters/01-gradient-descent.html",
            "exercises/01-gradient-descent.html",
        ],
    )
    ap.add_argument("--widgets", action="store_true")
    ap.add_argument("--out", default="screenshots")
    ap.add_argument("--width", type=int, default=1280)
    args = ap.parse_args()
    out = ROOT / args.out
    out.mkdir(exist_ok=True)
    server, port = serve(ROOT / "_build" / "html")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        page.on(
            "console", lambda m: errors.append(f"{page.url}: console {m.type}: {m.text}") if m.type == "error" else None
        )
        page.on(  # a console "404" does not say which file: name it
            "response", lambda r: errors.append(f"{page.url}: HTTP {r.status} for {r.url}") if r.status >= 400 else None
        )
        for rel in args.pages:
            page.goto(f"http://127.0.0.1:{port}/{rel}", wait_until="networkidle")
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
            page.evaluate("MathJax.startup.promise")
            page.wait_for_timeout(500)
            name = rel.replace("/", "_").replace(".html", "")
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            raw = page.evaluate("document.querySelectorAll('mjx-merror, .MathJax_Error').length")
            n_math = page.evaluate("document.querySelectorAll('mjx-container').length")
            print(f"{rel}: {n_math} formulas typeset, {raw} MathJax errors -> {args.out}/{name}.png")
            if args.widgets:
                widgets = page.query_selector_all("[data-descent-widget]")
                for i, w in enumerate(widgets):
                    w.scroll_into_view_if_needed()
                    w.screenshot(path=str(out / f"{name}_widget{i}_a.png"))
                    before = w.query_selector("img").get_attribute("src")[-80:]
                    for s in w.query_selector_all("input[type=range]"):
                        s.evaluate("e => { e.value = e.max; e.dispatchEvent(new Event('input')); }")
                    after = w.query_selector("img").get_attribute("src")[-80:]
                    w.screenshot(path=str(out / f"{name}_widget{i}_b.png"))
                    print(f"  widget {i}: frame changed when sliders moved: {before != after}")
        browser.close()
    server.shutdown()
    for e in errors:
        print("browser:", e)


if __name__ == "__main__":
    main()
