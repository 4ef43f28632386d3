"""The web page in a real browser: Debian's Chromium, headless, driven by Selenium (chromium-driver).

- `PageServer`: the page (web/) on 127.0.0.1 with a given pipeline, served from its own thread and event loop,
  so that Selenium's blocking calls never stall the server;
- `chromium()`: a headless Chromium at a given window size;
- helpers the browser test (tests/web/test_web_browser.py) and the measurement share.

`python -m tools.web_page` measures the page with the real offline models (caption visible after the upload,
voice playable, against the same pipeline's own photo → voice time) and writes docs/web-page.png:

    .venv/bin/python -m tools.web_page [--runs 5] [--fake] [--screenshot docs/web-page.png]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from app.photos import GallerySource, PhotoSource
from app.services import Services, build_services
from app.settings import AppSettings
from pipeline.events import PipelineInput, StoryPipeline, VoiceReady
from web import WebPage

ROOT = Path(__file__).resolve().parent.parent
EVERYDAY = ROOT / "tests" / "data" / "everyday"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
T = TypeVar("T")


def browser_available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


class PageServer:
    """WebPage on 127.0.0.1:<free port>, in a thread with its own loop; `run(coro)` runs a coroutine there."""

    def __init__(
        self,
        make_pipeline: Callable[[AppSettings], StoryPipeline],
        photos: PhotoSource | None = None,
        **settings: Any,
    ) -> None:
        self.settings = AppSettings(_env_file=None, **{"web_port": 0, **settings})
        self._make_pipeline = make_pipeline
        self._photos = photos
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="web-page", daemon=True)
        self.page: WebPage | None = None
        self.services: Services | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 120.0) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout_s)

    @property
    def url(self) -> str:
        assert self.page is not None, "start() first"
        return self.page.url

    def __enter__(self) -> PageServer:
        self._thread.start()
        self.run(self._start())
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self.run(self._stop(), timeout_s=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()

    async def _start(self) -> None:
        s = self.settings
        self.services = build_services(s, pipeline=self._make_pipeline(s), photos=self._photos or GallerySource())
        await self.services.start()
        self.page = WebPage(s, self.services.pipeline, self.services.photos, self.services.queue)
        await self.page.start()

    async def _stop(self) -> None:
        assert self.page and self.services
        await self.page.stop()
        await self.services.close()


def chromium(width: int = 1000, height: int = 900) -> WebDriver:
    """Headless Debian Chromium through chromium-driver; audio may play without a click (for the check)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
        f"--window-size={width},{height}",
        "--lang=pt-BR",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    return driver


def phone(driver: WebDriver, width: int = 360, height: int = 740) -> None:
    """Make the viewport a phone's (CSS pixels, touch), whatever the window's minimum size; `desktop` undoes it."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def desktop(driver: WebDriver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def choose_file(driver: WebDriver, path: Path) -> None:
    """What the file picker (or the phone's camera) does: give the input a file; the page uploads it."""
    driver.find_element(By.ID, "photo").send_keys(str(path))


def visible_text(driver: WebDriver, element_id: str) -> str:
    element = driver.find_element(By.ID, element_id)
    return element.text if element.is_displayed() else ""


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], timeout_s: float = 30.0) -> Any:
    return WebDriverWait(driver, timeout_s, poll_frequency=0.02).until(condition)


AUDIO_PLAYABLE = "const a = document.getElementById('audio'); return !!a.src && a.readyState >= 3 && !a.error;"


def wait_until_finished(driver: WebDriver, timeout_s: float = 60.0) -> None:
    """Caption, story and a playable voice on the page, or a failure message (raises with it)."""

    def finished(d: WebDriver) -> bool:
        if error := visible_text(d, "error"):
            raise AssertionError(f"the page says: {error}")
        if visible_text(d, "status") == "✅ Pronto.":  # finished without a voice: a stage failed
            raise AssertionError(f"finished without a voice: {visible_text(d, 'resultado')}")
        return bool(d.execute_script(AUDIO_PLAYABLE)) and bool(visible_text(d, "story-text"))

    wait_for(driver, finished, timeout_s)


def marks(driver: WebDriver) -> dict[str, float]:
    """The page's performance marks (milliseconds since it loaded), by name."""
    entries = driver.execute_script("return performance.getEntriesByType('mark').map(m => [m.name, m.startTime]);")
    return {name: float(at) for name, at in entries}


def load_uncached(driver: WebDriver, url: str) -> None:
    """Open `url` as a first visit would: nothing from the browser's cache (for `page_weight`)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    try:
        driver.get(url)
    finally:
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})


def page_weight(driver: WebDriver) -> int:
    """Bytes of HTML, CSS and JavaScript (and the icon) the page loaded, before any photo."""
    return int(
        driver.execute_script(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
            ".filter(e => !e.name.includes('/api/')).reduce((n, e) => n + (e.decodedBodySize || 0), 0);"
        )
    )


# --- measurement ---------------------------------------------------------------------------------------------


async def pipeline_photo_to_voice(pipeline: StoryPipeline, photo: bytes) -> float:
    """The bot's own path without Telegram: seconds from the photo's bytes to the voice."""
    started = time.perf_counter()
    async for event in pipeline.stream(PipelineInput(photo, voice_language="pt")):
        if isinstance(event, VoiceReady):
            return time.perf_counter() - started
    raise RuntimeError("no voice")


def measure(runs: int, fake: bool, screenshot: Path | None, *, straight: bool = True) -> dict[str, Any]:
    """Per photo, after one warm-up: the caption on the page after the upload; the voice playable on the page
    after choosing the photo, against the pipeline's own photo → voice time for the same story (the page's cost)
    and (`straight`) for the same photo run straight through the pipeline (the bot's path; a fixed seed tells the
    same story)."""
    from pipeline.backends import Backends
    from pipeline.core import Pipeline

    def make_pipeline(settings: AppSettings) -> StoryPipeline:
        if fake:
            from tools.fake_backends import fake_backends

            return Pipeline(settings, fake_backends())
        return Pipeline(settings, Backends.from_settings(settings))

    photos = sorted(EVERYDAY.glob("*.jpg"))
    chosen = [photos[(index * 7) % len(photos)] for index in range(runs)]
    caption_s, page_voice_s, same_story_s, direct_voice_s = [], [], [], []
    # A generous stage timeout: on a busy machine a slow story should be measured, not cut.
    with PageServer(make_pipeline, web_per_ip_per_minute=1000, story_seed=7, stage_timeout_s=300) as server:
        driver = chromium()
        try:
            load_uncached(driver, server.url)
            weight = page_weight(driver)
            for photo in [chosen[0], *chosen]:  # the first is a warm-up for both paths
                assert server.services is not None and server.page is not None
                pipeline = server.services.pipeline
                direct = server.run(pipeline_photo_to_voice(pipeline, photo.read_bytes())) if straight else 0.0
                driver.get(server.url)
                choose_file(driver, photo)
                wait_until_finished(driver, timeout_s=600)
                m = marks(driver)
                caption_s.append((m["caption-shown"] - m["upload-done"]) / 1000)
                page_voice_s.append((m["voice-playable"] - m["upload-start"]) / 1000)
                story = list(server.page.stories)[-1]  # the pipeline's own time for this story, on the server
                same_story_s.append(page_voice_s[-1] - (story.stamps["voice"] - story.stamps["started"]))
                direct_voice_s.append(direct)
                print(
                    f"{photo.name}: caption {caption_s[-1]:.3f} s after the upload; voice playable "
                    f"{page_voice_s[-1]:.2f} s after choosing, {same_story_s[-1]:+.3f} s on the pipeline's own "
                    f"time for that story; the same photo straight through the pipeline {direct:.2f} s",
                    file=sys.stderr,
                )
            if screenshot is not None:
                driver.get(server.url)
                choose_file(driver, EVERYDAY / "lighthouse.jpg")
                wait_until_finished(driver, timeout_s=600)
                take_screenshot(driver, screenshot)
        finally:
            driver.quit()

    def summary(values: list[float]) -> dict[str, float]:
        values = values[1:]  # without the warm-up
        return {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}

    voice, pipeline_voice = summary(page_voice_s), summary(direct_voice_s)
    return {
        "backends": "fake" if fake else "offline models",
        "photos": [photo.name for photo in chosen],
        "page_bytes": weight,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "caption_visible_after_upload_s": summary(caption_s),
        "voice_playable_after_choosing_s": voice,
        "page_cost_over_the_same_story_s": summary(same_story_s),
        "pipeline_photo_to_voice_s": pipeline_voice,
        "voice_overhead_s": round(voice["median"] - pipeline_voice["median"], 3),
    }


def take_screenshot(driver: WebDriver, path: Path) -> None:
    """The whole page, beyond the window's height, as a PNG."""
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="photos measured (after one warm-up)")
    parser.add_argument("--fake", action="store_true", help="light fake backends instead of the offline models")
    parser.add_argument("--screenshot", type=Path, default=None, help="write a screenshot of the finished page")
    args = parser.parse_args(argv)
    if not browser_available():
        print("chromium and chromium-driver are needed (scripts/setup-system.sh installs them)", file=sys.stderr)
        return 2
    print(json.dumps(measure(args.runs, args.fake, args.screenshot), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
