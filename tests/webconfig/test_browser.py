"""The phone page in a real headless Chromium, served by a real waitress server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

from device import contract, store
from device.catalog import upsert_track
from device.config import Config
from device.contract import NowPlaying, PlayerState
from webconfig.server import BackgroundServer, start_background

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: ViewportSize = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt install chromium)"),
]


@pytest.fixture
def server(config: Config) -> Iterator[BackgroundServer]:
    database = store.open_database(config.database_path)
    upsert_track(
        database,
        title="Here Comes the Sun",
        artist="The Beatles",
        path="/m/sun.ogg",
        valence=0.8,
        arousal=0.4,
        va_source="features",
    )
    upsert_track(
        database,
        title="Clair de Lune",
        artist="Debussy",
        path="/m/clair.ogg",
        valence=0.3,
        arousal=-0.6,
        va_source="features",
    )
    database.conn.close()
    with start_background(config, "127.0.0.1", 0) as handle:
        yield handle


@pytest.fixture
def page(server: BackgroundServer) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        page = context.new_page()
        page.set_default_timeout(10_000)
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith((server.url, "data:")) else outside.append(r.url))
        yield page
        browser.close()
        assert outside == [], "the page must not load anything from elsewhere"


def test_seed_and_now_playing_on_a_phone(config: Config, server: BackgroundServer, page: Page) -> None:
    page.goto(server.url + "/")
    assert page.url.endswith("/login")
    page.fill("#pin", "0000")
    page.click("button[type=submit]")
    expect(page.locator("#login-message")).to_contain_text("Wrong PIN")

    page.fill("#pin", "4321")
    page.click("button[type=submit]")
    expect(page.locator("#seed")).to_be_visible()
    box = page.locator("#skip").bounding_box()
    assert box and box["height"] >= 44, "buttons must be big enough for a thumb"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"

    page.fill("#seed", "here comes the sun")
    page.click("#seed-card button.primary")
    expect(page.locator("#current-seed")).to_have_text("Here Comes the Sun — The Beatles")
    database = store.open_database(config.database_path)
    try:
        seed = contract.read_settings(database).seed
        assert seed is not None and seed.title == "Here Comes the Sun"

        page.fill("#seed", "no such song")
        page.click("#seed-card button.primary")
        expect(page.locator("#seed-message")).to_contain_text("No song matches")

        # The daemon writes state; the open page picks it up without a reload.
        contract.write_status(
            database,
            state=PlayerState.PLAYING,
            now_playing=NowPlaying(**{
                "track_id": 2,
                "title": "Clair de Lune",
                "artist": "Debussy",
                "valence": 0.3,
                "arousal": -0.6,
                "va_source": "features",
                "started_at": 0.0,
            }),
            emotion={"label": "sad", "confidence": 0.64, "valence": -0.6, "arousal": -0.3, "present": True},
            decision={
                "intent": "enhance",
                "target": {"valence": -0.1, "arousal": -0.2},
                "reason": "a sad face with a bright favourite song: lifting gently",
            },
        )
    finally:
        database.conn.close()
    panel = page.locator("#now-playing")
    expect(panel.locator("[data-field=title]")).to_have_text("Clair de Lune", timeout=10_000)
    expect(panel.locator("[data-field=emotion]")).to_have_text("sad (64 %)")
    expect(panel.locator("[data-field=reason]")).to_contain_text("lifting gently")
    expect(panel).to_have_attribute("data-status", "playing")
