"""Evidence probe (issue 21): open a built JupyterLite site's REPL with the Pyodide kernel in
Debian's chromium, every non-127.0.0.1 request aborted, run CODE and print the outputs.

Usage: python probe_lite.py SITE_DIR CODE SCREENSHOT.png   (see EVIDENCE.md, route c)
"""

import subprocess
import sys
import time
import urllib.parse

from playwright.sync_api import sync_playwright

PORT = 8766


def main() -> None:
    root, code, shot = sys.argv[1], sys.argv[2], sys.argv[3]
    srv = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(PORT), "--bind", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    blocked, failed, reqs = [], [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--enable-logging=stderr", "--v=0"]
            )
            page = browser.new_page(viewport={"width": 1100, "height": 800})

            def route(r):
                if r.request.url.startswith(f"http://127.0.0.1:{PORT}/"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("response", lambda resp: failed.append(f"{resp.status} {resp.url}") if resp.status >= 400 else None)
            page.on("console", lambda m: print("console:", m.text[:400]))
            page.context.on("request", lambda r: reqs.append(r.url))
            t0 = time.time()
            query = "kernel=python&execute=1&code=" + urllib.parse.quote(code)
            page.goto(f"http://127.0.0.1:{PORT}/repl/index.html?{query}")
            try:
                page.wait_for_selector(".jp-OutputArea-output", timeout=90000)
                time.sleep(2)
                print(f"first output after {time.time() - t0:.1f} s")
            except Exception as e:  # noqa: BLE001 - report, then show what is on screen
                print("no output within 90 s:", type(e).__name__)
            print("OUTPUT TEXT:", [t[:500] for t in page.locator(".jp-OutputArea-output").all_inner_texts()])
            page.screenshot(path=shot)
            print("requests for static/pyodide or wheels:", [u for u in reqs if "static/pyodide" in u or ".whl" in u])
            browser.close()
    finally:
        srv.terminate()
    print("blocked non-localhost requests:", blocked)
    print("HTTP errors:", failed)


if __name__ == "__main__":
    main()
