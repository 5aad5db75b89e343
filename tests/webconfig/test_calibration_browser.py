"""A calibration walked on the phone page in a real headless Chromium, served by the real waitress server,
with the real daemon loop (in a thread of this process) collecting a real person's posed faces (jaffe-dev)
from its camera: choose expressions, follow the countdown, the progress and the advice, cancel; then all
seven, the rest between rounds, the decision, and going back to the reading before it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from device.calibration.faces import load_personal_faces
from device.calibration.session import Timings
from device.calibration.store import head_path, person_faces_dir
from device.config import Config
from device.daemon import Daemon
from tests.calibration_daemon import build, fast_config, running
from tests.camera_faces import PosingCamera, have_jaffe, jaffe_photos
from tests.webconfig.test_browser import CHROMIUM, browser, phone_page, playwright, sign_in  # noqa: F401
from webconfig.server import BackgroundServer, start_background

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt install chromium)"),
    pytest.mark.skipif(not have_jaffe(), reason="../shared/data/jaffe-dev is not here"),
]

# the first calibration: a countdown long enough to be read between two polls of the page
SLOW_START = Timings(get_ready_s=2.5, per_round=10, interval_s=0.05, round_gap_s=2.0, step_timeout_s=20.0)
# the second: quick steps, and round 2 a while after round 1, so the page shows the rest
WITH_REST = Timings(get_ready_s=0.3, per_round=10, interval_s=0.05, round_gap_s=14.0, step_timeout_s=20.0)


@pytest.fixture
def posing(config: Config) -> Iterator[tuple[Daemon, PosingCamera]]:
    daemon, camera, _ = build(fast_config(config), jaffe_photos("KM"), away_frames=40, timings=SLOW_START)
    with running(daemon):
        yield daemon, camera


@pytest.fixture
def server(config: Config, posing: tuple[Daemon, PosingCamera]) -> Iterator[BackgroundServer]:
    with start_background(config, "127.0.0.1", 0) as handle:
        yield handle


def teach(page: Page, field: str) -> Locator:
    return page.locator(f"#teach-progress [data-teach={field}]")


def test_calibration_walked_on_a_phone(config: Config, posing: tuple[Daemon, PosingCamera],
                                       server: BackgroundServer, browser: Browser) -> None:  # noqa: F811
    daemon, camera = posing
    outside: list[str] = []
    page = phone_page(browser, server, outside)
    started = time.monotonic()
    sign_in(page, server)
    expect(page.locator("#teach-heading")).to_have_text("Teach emotune your face")
    expect(page.locator("#teach-person")).to_have_value("listener")
    assert page.locator("input[name=expressions]:checked").count() == 7  # all seven by default

    page.fill("#teach-person", "Kim")
    for label in ("angry", "disgust", "fear", "surprise", "neutral"):
        page.uncheck(f"input[name=expressions][value={label}]")
    page.click("#teach-go")
    expect(teach(page, "headline")).to_have_text("Get ready to show a happy face")
    expect(teach(page, "hint")).to_have_text("Smile, a real one that reaches your eyes.")
    expect(teach(page, "timer")).to_contain_text("Starting in")
    expect(teach(page, "headline")).to_have_text("Show a happy face and hold it")
    expect(page.locator("#teach-advice")).to_have_text("face the camera, more light")
    expect(teach(page, "count")).to_contain_text(" of 10 pictures")
    expect(page.locator("#teach-rows li")).to_have_count(2)
    page.click("#teach-cancel")
    expect(page.locator("#teach-result .teach-headline")).to_have_text("Cancelled", timeout=10_000)
    expect(page.locator("#teach-failure")).to_contain_text("Nothing was kept")
    assert load_personal_faces(person_faces_dir(config.state_dir, "Kim")).labels == []
    cancelled_at = time.monotonic()

    daemon.calibration.timings = WITH_REST
    camera.away_frames = 0  # the advice was seen: now they sit in view at once
    page.fill("#teach-person", "Kim")
    assert page.locator("input[name=expressions]:checked").count() == 7
    page.click("#teach-go")
    expect(teach(page, "headline")).to_have_text("Rest a moment", timeout=30_000)
    expect(teach(page, "timer")).to_contain_text("Next round in")
    expect(page.locator("#teach-rows")).to_contain_text("happy: 10 + 0 of 20")
    expect(page.locator("#teach-decision")).to_contain_text("emotune learnt your face", timeout=60_000)
    expect(page.locator("#teach-decision")).to_contain_text("test pictures right")
    assert head_path(config.state_dir, "Kim").is_file()
    decided_at = time.monotonic()

    expect(page.locator("#teach-rollback")).to_be_visible()
    page.click("#teach-rollback")
    expect(page.locator("main > .message.ok")).to_have_text(
        "Back to the general reading of faces: no calibration is used now.")
    assert not head_path(config.state_dir, "Kim").exists()
    assert outside == [], "the page must not load anything from elsewhere"
    print(f"\nfirst calibration to cancel: {cancelled_at - started:.1f} s; seven expressions to the decision: "
          f"{decided_at - cancelled_at:.1f} s")
