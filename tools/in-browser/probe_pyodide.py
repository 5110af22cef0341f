"""Evidence probe (issue 21): serve DIR on 127.0.0.1, open PAGE in Debian's chromium with every
other request aborted, wait for ``window.done`` and print ``window.results``.

Used with pyodide_probe.html next to the npm ``pyodide`` package unpacked as DIR/pyodide/ and
PyPI wheels in DIR/wheels/ (see EVIDENCE.md). Needs playwright (pip) and chromium (apt).
Usage: python probe_pyodide.py DIR [PAGE] [SCREENSHOT.png]
"""

import json
import subprocess
import sys
import time

from playwright.sync_api import sync_playwright

PORT = 8765


def main() -> None:
    root = sys.argv[1]
    page_name = sys.argv[2] if len(sys.argv) > 2 else "index.html"
    shot = sys.argv[3] if len(sys.argv) > 3 else "probe.png"
    srv = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(PORT), "--bind", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    blocked, failed = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page()

            def route(r):
                if r.request.url.startswith(f"http://127.0.0.1:{PORT}/"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("response", lambda resp: failed.append(f"{resp.status} {resp.url}") if resp.status >= 400 else None)
            page.on("console", lambda m: print("console:", m.text[:300]))
            page.goto(f"http://127.0.0.1:{PORT}/{page_name}")
            page.wait_for_function("window.done === true", timeout=120000)
            print(json.dumps(page.evaluate("window.results"), indent=1))
            page.screenshot(path=shot, full_page=True)
            browser.close()
    finally:
        srv.terminate()
    print("blocked non-localhost requests:", blocked)
    print("HTTP errors:", failed)


if __name__ == "__main__":
    main()
