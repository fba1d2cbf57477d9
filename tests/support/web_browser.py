"""Headless Chromium for the web tests and the latency benchmark: Debian's /usr/bin/chromium driven
by Playwright (``executable_path``: Playwright never downloads a browser here).

    with browser() as chrome:
        page = open_page(chrome, base + "/display", 1920, 1080)
        ...
        assert page.errors == []
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

# For ``locator.evaluate``: an image's width once it has loaded (0 if it cannot); right after a navigation or a
# reload the page may be there before its image is.
LOADED_WIDTH = ("i => i.complete ? i.naturalWidth : new Promise(done => { i.onload = () => done(i.naturalWidth); "
                "i.onerror = () => done(0); })")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
TV = (1920, 1080)
PHONE = (390, 844)


@contextmanager
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield chrome
        finally:
            chrome.close()


class WatchedPage:
    """A page with its console errors and uncaught exceptions collected in ``errors``."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text} ({message.location.get('url', '')})")

    def wait_rendered(self, after: int = 0, timeout: float = 5000) -> int:
        """Wait until the page has rendered more than ``after`` snapshots; returns the count."""
        self.page.wait_for_function(f"() => window.sebiaoRendered && window.sebiaoRendered.count > {after}",
                                    timeout=timeout)
        return self.page.evaluate("window.sebiaoRendered.count")

    def __getattr__(self, name: str):
        return getattr(self.page, name)


def open_page(chrome: Browser, url: str, size: tuple[int, int] = TV, lang: str | None = None,
              context=None) -> WatchedPage:
    ctx = context or chrome.new_context(viewport={"width": size[0], "height": size[1]},
                                        device_scale_factor=1, locale="zh-CN")
    page = WatchedPage(ctx.new_page())
    page.goto(url + (f"?lang={lang}" if lang else ""))
    return page


def login(chrome: Browser, base: str, password: str, size: tuple[int, int] = TV) -> WatchedPage:
    ctx = chrome.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN")
    page = WatchedPage(ctx.new_page())
    page.goto(base + "/console/login")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/console")
    return page


# WCAG 2.x contrast of every visible text node's colour against the background it is drawn on
# (the first opaque ancestor background, blended over the page's).
CONTRAST_JS = """
() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const blend = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const background = (node) => {
    const stack = [];
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) { stack.push(c); if (c[3] >= 1) break; }
    }
    let color = [255, 255, 255, 1];
    for (let i = stack.length - 1; i >= 0; i--) color = blend(stack[i], color);
    return color;
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    if (!t.textContent.trim()) continue;
    const node = t.parentElement;
    const style = getComputedStyle(node);
    const rect = node.getBoundingClientRect();
    if (style.visibility === "hidden" || style.display === "none" || rect.width === 0 || rect.height === 0) continue;
    if (node.closest(".sr-only")) continue;
    let opacity = 1;
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
    const bg = background(node);
    const fg = blend([...parse(style.color).slice(0, 3), parse(style.color)[3] * opacity], bg);
    const a = lum(fg), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    out.push({ text: t.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100,
               need: large ? 3 : 4.5, size });
  }
  return out;
}
"""


def contrast_failures(page: WatchedPage) -> tuple[int, list[dict]]:
    """(how many text runs were measured, those below WCAG AA)."""
    measured = page.evaluate(CONTRAST_JS)
    return len(measured), [m for m in measured if m["ratio"] < m["need"]]


def screenshot(page: WatchedPage, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
