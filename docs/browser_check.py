"""Look at the built docs in a real browser: every diagram rendered, complete, and fitting.

Usage (after ``python -m sphinx -b html docs docs/_build/html``)::

    python docs/browser_check.py docs/_build/html

Debian's headless Chromium, driven by Selenium through Debian's ``/usr/bin/chromedriver``
(nothing is downloaded; ``SE_OFFLINE`` keeps Selenium Manager off the network), loads every
page with a diagram (and the rules, API and index pages) from a local HTTP server in a
1400 × 1000 window. No table or code block may stick out of the page body. For each
``.em-diagram`` the generator wrote (``data-nodes`` says how many nodes it draws) it checks
that an SVG rendered with exactly that many nodes, that no Mermaid error shows, that the
diagram fits the page body and that the page does not scroll sideways. It writes full-page
screenshots of the life of a dossier and of the devis phase to
``docs/_build/screenshots/`` and the measures to ``report.json`` there; exits 1 on any
failure. ``.ci/run`` runs it (and installs chromium and chromium-driver when missing).
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

WINDOW = (1400, 1000)
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = {
    "life-of-a-dossier.html": "life-of-a-dossier.png",
    "_generated/procedure/devis.html": "phase-devis.png",
    "_generated/states/etude_devis.html": "state-etude_devis.png",
    "_generated/rules.html": "rules.png",
}
# Pages without a diagram whose tables must fit too (the rules reference used to overflow).
ALSO = ("_generated/rules.html", "_generated/procedure/index.html", "api.html", "index.html")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

MEASURE = """
const body = document.querySelector("div.body") || document.body;
const out = [];
for (const box of document.querySelectorAll(".em-diagram")) {
  const svg = box.querySelector("svg");
  const item = {
    name: box.dataset.name, kind: box.dataset.kind, expected: Number(box.dataset.nodes),
    svg: !!svg, nodes: 0, width: 0, natural: 0, error: null,
    links: 0, body: body.getBoundingClientRect().width,
  };
  if (svg) {
    item.nodes = svg.querySelectorAll("g.node").length;
    item.width = svg.getBoundingClientRect().width;
    item.natural = parseFloat(svg.getAttribute("width")) || parseFloat(svg.style.maxWidth) || 0;
    if (box.dataset.kind === "mermaid" && svg.viewBox && svg.viewBox.baseVal) {
      item.natural = svg.viewBox.baseVal.width;
    }
    item.links = svg.querySelectorAll("a").length;
    const text = Array.from(svg.querySelectorAll("text, .error-text"))
      .map((t) => t.textContent).join(" ");
    if (/Syntax error|Parse error|error in text/i.test(text) || svg.querySelector(".error-icon")) {
      item.error = text.slice(0, 200);
    }
    item.right = svg.getBoundingClientRect().right;
    item.bodyRight = body.getBoundingClientRect().right;
  }
  out.push(item);
}
const bodyRight = body.getBoundingClientRect().right;
// a table or code block sticking out of the body, or scrolling sideways inside itself
const wide = Array.from(document.querySelectorAll("table, pre"))
  .filter((el) => !el.closest(".em-diagram, .em-mermaid"))
  .filter((el) => el.getBoundingClientRect().right > bodyRight + 1
    || el.scrollWidth > el.clientWidth + 1)
  .map((el) => el.tagName + " " + (el.textContent || "").trim().slice(0, 60));
return {
  wide: wide,
  diagrams: out,
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  mermaid: document.body.getAttribute("data-mermaid"),
  hasMermaid: !!document.querySelector("pre.mermaid, div.em-mermaid"),
};
"""


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _driver(profile: str) -> Any:
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = next((c for c in CHROMIUM if Path(c).exists()), CHROMIUM[0])
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_window_size(*WINDOW)
    return driver


def _wait_mermaid(driver: Any, timeout: float = 30.0) -> str | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = driver.execute_script("return document.body.getAttribute('data-mermaid')")
        if state:
            return str(state)
        time.sleep(0.05)
    return None


def _screenshot(driver: Any, path: Path) -> None:
    """The whole page at the window's width (Chrome DevTools: beyond the viewport)."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "width": WINDOW[0],
                "height": min(size["height"], 6000),
                "scale": 1,
            },
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def _problems(page: str, result: dict[str, Any]) -> list[str]:
    out = []
    if result["hasMermaid"] and result["mermaid"] != "done":
        out.append(f"{page}: Mermaid did not finish: {result['mermaid']}")
    if result["scrollWidth"] > result["innerWidth"]:
        out.append(
            f"{page}: scrolls sideways ({result['scrollWidth']} > {result['innerWidth']} px)"
        )
    for what in result["wide"]:
        out.append(f"{page}: overflows the page body: {what}")
    for d in result["diagrams"]:
        where = f"{page} [{d['name']}]"
        if not d["svg"]:
            out.append(f"{where}: no SVG rendered")
            continue
        if d["error"]:
            out.append(f"{where}: Mermaid error: {d['error']}")
        if d["nodes"] != d["expected"]:
            out.append(f"{where}: {d['nodes']} nodes rendered, {d['expected']} expected")
        if d["right"] > d["bodyRight"] + 1 or d["width"] > WINDOW[0]:
            out.append(f"{where}: {d['width']:.0f} px wide, overflows the page body")
        if d["links"] < 1:
            out.append(f"{where}: no clickable node")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    site = Path(argv[1]).resolve()
    if not (site / "index.html").is_file():
        print(f"browser_check: {site} is not a built site (no index.html)", file=sys.stderr)
        return 2
    if not Path(CHROMEDRIVER).exists():
        print(
            "browser_check: /usr/bin/chromedriver is missing: "
            "apt-get install chromium chromium-driver",
            file=sys.stderr,
        )
        return 2
    pages = sorted(
        {
            p.relative_to(site).as_posix()
            for p in site.rglob("*.html")
            if "em-diagram" in p.read_text(encoding="utf-8")
        }
        | {page for page in ALSO if (site / page).is_file()}
    )
    shots = site.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    server, base = _serve(site)
    profile = tempfile.mkdtemp(prefix="etatmachine-chromium-")
    driver = _driver(profile)
    problems: list[str] = []
    report: dict[str, Any] = {}
    started = time.monotonic()
    try:
        for page in pages:
            driver.get(base + page)
            if 'pre class="mermaid"' in (site / page).read_text(encoding="utf-8"):
                _wait_mermaid(driver)
            result = driver.execute_script(MEASURE)
            report[page] = result
            problems += _problems(page, result)
            if page in SCREENSHOTS:
                _screenshot(driver, shots / SCREENSHOTS[page])
                first = driver.find_elements("css selector", ".em-diagram")
                if first:  # the diagram alone, at the size the reader sees it
                    name = SCREENSHOTS[page].replace(".png", "-diagram.png")
                    first[0].screenshot(str(shots / name))
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    diagrams = [d for r in report.values() for d in r["diagrams"]]
    for d in diagrams:
        d["scale"] = round(d["width"] / d["natural"], 3) if d["natural"] else 0.0
        if d["kind"] == "graphviz":
            print(
                f"browser_check: [{d['name']}] {d['nodes']}/{d['expected']} nodes, "
                f"{d['width']:.0f} px wide in a {d['body']:.0f} px body (natural "
                f"{d['natural']:.0f} px, scale {d['scale']:.2f})"
            )
    mermaids = [d for d in diagrams if d["kind"] == "mermaid"]
    if mermaids:
        small = min(mermaids, key=lambda d: d["scale"])
        print(
            f"browser_check: {len(mermaids)} Mermaid diagrams, widest "
            f"{max(d['width'] for d in mermaids):.0f} px, smallest scale {small['scale']:.2f} "
            f"({small['name']})"
        )
    (shots / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    kinds = {k: sum(d["kind"] == k for d in diagrams) for k in ("graphviz", "mermaid")}
    print(
        f"browser_check: {len(pages)} pages, {len(diagrams)} diagrams "
        f"({kinds['graphviz']} Graphviz, {kinds['mermaid']} Mermaid) in "
        f"{time.monotonic() - started:.1f} s; screenshots in {shots}"
    )
    for line in problems:
        print(f"browser_check: FAIL {line}", file=sys.stderr)
    if not diagrams:
        print("browser_check: FAIL no diagram found", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
