"""The dashboard in a real browser: `streamlit run` and headless Chromium on 127.0.0.1.

Chromium is driven over the DevTools protocol (websocket-client), with a bounded wait for
every step. Also a command, to refresh the README's screenshot from a running app:

    .venv/bin/python tests/python/browser.py http://127.0.0.1:8501/ docs/dashboard.png
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
WINDOW = (1400, 1500)
# True once Streamlit has drawn the charts of the open tab and stopped running the script.
PAGE_READY_JS = """(() => {
    const charts = document.querySelectorAll('[data-testid="stVegaLiteChart"] canvas, '
        + '[data-testid="stVegaLiteChart"] svg.marks');
    const running = document.querySelector('[data-testid="stStatusWidget"]');
    return charts.length > 0 && !running;
})()"""


PAGE_RUNNING_JS = "!!document.querySelector('[data-testid=\"stStatusWidget\"]')"


def chromium_path() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(what: str, timeout_s: float, check, interval_s: float = 0.25):
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f}s")
        time.sleep(interval_s)


def _get(url: str, timeout_s: float = 5.0) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.read().decode()
    except OSError:
        return None


@contextmanager
def streamlit_app(env: Mapping[str, str], log: Path, timeout_s: float = 90.0) -> Iterator[str]:
    """`streamlit run dashboards/dashboard.py` on a free port; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboards/dashboard.py",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}/"
    try:

        def healthy() -> bool:
            if process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {process.returncode}:\n{log.read_text()}"
                )
            return _get(base + "_stcore/health", 2.0) == "ok"

        _wait("streamlit health check", timeout_s, healthy)
        yield base
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class DevTools:
    """One page target over the DevTools protocol; each call waits at most `timeout_s`."""

    def __init__(self, ws_url: str, timeout_s: float = 30.0) -> None:
        import websocket

        self.socket = websocket.create_connection(ws_url, timeout=timeout_s, suppress_origin=True)
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:  # events arrive in between; the socket's timeout bounds each receive
            answer = json.loads(self.socket.recv())
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def close(self) -> None:
        self.socket.close()


@contextmanager
def chromium(profile_dir: Path, timeout_s: float = 30.0) -> Iterator[DevTools]:
    """Headless Chromium with a private profile; yields its first page."""
    binary = chromium_path()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
    width, height = WINDOW
    process = subprocess.Popen(
        [
            binary,
            *CHROMIUM_FLAGS,
            f"--window-size={width},{height}",
            f"--user-data-dir={profile_dir}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    page = None
    try:
        active = profile_dir / "DevToolsActivePort"  # Chromium writes its port here

        def port() -> str | None:
            if process.poll() is not None:
                raise RuntimeError(f"chromium exited with {process.returncode}")
            text = active.read_text() if active.exists() else ""
            return text.splitlines()[0] if text.strip() else None

        devtools = f"http://127.0.0.1:{_wait('chromium DevTools port', timeout_s, port)}"

        def page_url() -> str | None:
            targets = json.loads(_get(devtools + "/json/list") or "[]")
            pages = [t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"]
            return pages[0] if pages else None

        page = DevTools(_wait("chromium page target", timeout_s, page_url), timeout_s)
        yield page
    finally:
        if page is not None:
            page.close()
        _stop(process)


def open_and_wait(page: DevTools, url: str, expected: list[str], timeout_s: float = 90.0) -> str:
    """Load `url`, wait for a drawn chart and every expected text; returns the page text."""
    page.call("Page.enable")
    page.call("Page.navigate", url=url)
    seen = {"text": ""}

    def ready() -> bool:
        seen["text"] = page.evaluate("document.body ? document.body.innerText : ''") or ""
        return bool(page.evaluate(PAGE_READY_JS)) and all(t in seen["text"] for t in expected)

    try:
        _wait(f"{url} showing {expected}", timeout_s, ready, interval_s=0.5)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; the page said:\n{seen['text'][:3000]}") from None
    time.sleep(1.0)  # let the charts' enter transitions finish before the screenshot
    return seen["text"]


# Each drawn chart's legends as Vega drew them in SVG: title, labels, and each symbol's
# fill, stroke, dash and opacity; and the dash patterns and opacities of its marks.
CHARTS_JS = """(() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
    .filter(chart => chart.offsetParent && chart.querySelector('svg.marks'))
    .map(chart => ({
        legends: [...chart.querySelectorAll('g.role-legend')].map(legend => ({
            title: legend.querySelector('g.role-legend-title text')?.textContent || null,
            entries: [...legend.querySelectorAll('g.role-legend-symbol path')].map((symbol, i) => ({
                label: legend.querySelectorAll('g.role-legend-label text')[i]?.textContent,
                fill: symbol.getAttribute('fill'),
                stroke: symbol.getAttribute('stroke'),
                dash: symbol.getAttribute('stroke-dasharray'),
                opacity: symbol.getAttribute('opacity'),
            })),
        })),
        lineDashes: [...chart.querySelectorAll('g.mark-line path')]
            .map(path => path.getAttribute('stroke-dasharray')),
        barOpacities: [...chart.querySelectorAll('g.mark-rect path')]
            .map(path => path.getAttribute('opacity')),
        hollowPoints: [...chart.querySelectorAll('g.mark-symbol path')]
            .filter(path => path.getAttribute('fill-opacity') === '0').length,
    })))()"""


def charts(page: DevTools) -> list[dict[str, Any]]:
    """The visible charts' legends and mark styles (see CHARTS_JS)."""
    return page.evaluate(CHARTS_JS) or []


def open_tab(page: DevTools, label: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """Click a Streamlit tab and wait until its charts are drawn; returns charts(page)."""
    script = (
        "(() => { const tab = [...document.querySelectorAll('[role=tab]')]"
        f".find(t => t.innerText.trim() === {json.dumps(label)});"
        " if (tab) tab.click(); return !!tab; })()"
    )
    if not page.evaluate(script):
        raise AssertionError(f"no tab named {label!r}")
    found: dict[str, list[dict[str, Any]]] = {"charts": []}

    def drawn() -> bool:
        found["charts"] = charts(page)
        return bool(found["charts"]) and not page.evaluate(PAGE_RUNNING_JS)

    _wait(f"the charts of tab {label!r}", timeout_s, drawn, interval_s=0.5)
    time.sleep(1.0)  # the charts' enter transitions
    return charts(page)


def screenshot(page: DevTools, path: Path) -> bytes:
    data = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    path.write_bytes(data)
    return data


def main(argv: list[str]) -> int:
    url, out = argv
    with tempfile.TemporaryDirectory() as profile, chromium(Path(profile)) as page:
        open_and_wait(page, url, [])
        screenshot(page, Path(out))
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
