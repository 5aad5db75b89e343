"""The phone page in a real headless Chromium at a phone's size, served by the real waitress server.

Screenshots of the main page (light and dark) go to reports/screenshots/ (EMOTUNE_SCREENSHOTS to change).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import sqlite_utils
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, expect, sync_playwright

from device import contract, store
from device.catalog.tracks import upsert_track
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
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("EMOTUNE_SCREENSHOTS", ROOT / "reports" / "screenshots"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt install chromium)"),
]


@pytest.fixture
def server(config: Config) -> Iterator[BackgroundServer]:
    database = store.open_database(config.database_path)
    upsert_track(database, title="Here Comes the Sun", artist="The Beatles", path="/m/sun.ogg", valence=0.8,
                 arousal=0.4, va_source="features", duration_s=185.0)
    upsert_track(database, title="Clair de Lune", artist="Debussy", path="/m/clair.ogg", valence=0.3, arousal=-0.6,
                 va_source="features", duration_s=300.0)
    database.conn.close()
    with start_background(config, "127.0.0.1", 0) as handle:
        yield handle


@pytest.fixture
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def phone_page(browser: Browser, server: BackgroundServer, outside: list[str]) -> Page:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("request", lambda r: None if r.url.startswith((server.url, "data:")) else outside.append(r.url))
    return page


@pytest.fixture
def page(browser: Browser, server: BackgroundServer) -> Iterator[Page]:
    outside: list[str] = []
    yield phone_page(browser, server, outside)
    assert outside == [], "the page must not load anything from elsewhere"


@pytest.fixture
def db(config: Config) -> Iterator[sqlite_utils.Database]:
    database = store.open_database(config.database_path)
    yield database
    database.conn.close()


def sign_in(page: Page, server: BackgroundServer) -> None:
    page.goto(server.url + "/")
    assert page.url.endswith("/login")
    page.fill("#pin", "4321")
    page.click("button[type=submit]")
    expect(page.locator("#seed")).to_be_visible()


def track_id(db: sqlite_utils.Database, title: str) -> int:
    return int(db.execute("SELECT id FROM tracks WHERE title = ?", [title]).fetchone()[0])


def test_seed_and_now_playing_on_a_phone(config: Config, server: BackgroundServer, page: Page,
                                         db: sqlite_utils.Database) -> None:
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
    seed = contract.read_settings(db).seed
    assert seed is not None and seed.title == "Here Comes the Sun"

    page.fill("#seed", "no such song")
    page.click("#seed-card button.primary")
    expect(page.locator("#seed-message")).to_contain_text("No song matches")

    # The daemon writes state; the open page picks it up without a reload.
    contract.write_status(
        db,
        state=PlayerState.PLAYING,
        now_playing=NowPlaying(track_id(db, "Clair de Lune"), "Clair de Lune", "Debussy", 0.3, -0.6, "features",
                               time.time()),
        emotion={"label": "sad", "confidence": 0.64, "valence": -0.6, "arousal": -0.3, "present": True},
        decision={"emotion": {"label": "happy", "confidence": 0.43, "valence": 0.6, "arousal": 0.3},
                  "intent": "enhance", "target": {"valence": -0.1, "arousal": -0.2},
                  "track": {"valence": 0.3, "arousal": -0.6}, "reason": "target valence -0.10 (0.57 away)"},
    )
    panel = page.locator("#now-playing")
    expect(panel.locator("[data-field=title]")).to_have_text("Clair de Lune")
    expect(panel.locator("[data-field=face_now]")).to_have_text("sad (64 %)")
    expect(panel.locator("[data-field=face_then]")).to_have_text("happy (43 %)")
    expect(panel.locator("[data-field=why]")).to_contain_text("one step toward something lighter")
    expect(panel.locator("[data-field=why]")).not_to_contain_text("valence")
    expect(panel.locator("[data-field=time]")).to_contain_text("/ 5:00")
    expect(panel).to_have_attribute("data-status", "playing")
    expect(panel.locator("[data-field=numbers]")).not_to_be_visible()  # one tap away
    panel.locator("summary").click()
    expect(panel.locator("[data-field=numbers]")).to_contain_text("0.57 away")


def test_a_command_goes_sent_then_done_and_a_killed_player_shows_a_banner(
        config: Config, server: BackgroundServer, page: Page, db: sqlite_utils.Database, tmp_path: Path) -> None:
    go = tmp_path / "take-commands"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "tests.webconfig.standin_daemon", str(config.database_path),
         str(track_id(db, "Clair de Lune")), str(go)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert daemon.stdout is not None and daemon.stdout.readline().strip() == "playing"
        sign_in(page, server)
        panel = page.locator("#now-playing")
        expect(panel).to_have_attribute("data-status", "playing")
        expect(page.locator("#toggle")).to_have_text("Pause")
        expect(page.locator("#stale-banner")).to_be_hidden()
        page.click("#toggle")
        expect(page.locator("#command-state")).to_have_text("Pause: sent, waiting for the player")
        go.touch()  # the daemon's loop comes round
        expect(page.locator("#command-state")).to_have_text("Pause: done")
        expect(page.locator("#toggle")).to_have_text("Resume")  # one toggle, never both
        assert page.locator("button[value=pause], button[value=resume]").count() == 1

        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
        banner = page.locator("#stale-banner")
        expect(banner).to_be_visible(timeout=contract.STALE_AFTER_S * 1000 + 15_000)
        expect(banner).to_contain_text("The player is not answering since")
        expect(panel).to_have_attribute("data-status", "stale")
        expect(panel.locator("[data-field=status]")).to_have_text("Not answering")
        page.click("#skip")
        expect(page.locator("p.message.error[role=status]")).to_contain_text("nothing was sent")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)
        if daemon.stdout is not None:
            daemon.stdout.close()


def add_history(db: sqlite_utils.Database) -> list[int]:
    """A morning's plays: faces when chosen, their traces and ends (the newest still playing)."""
    sun, clair = track_id(db, "Here Comes the Sun"), track_id(db, "Clair de Lune")
    now = time.time()
    plays = [
        (clair, 50, "sad", -0.62, -0.35, "neutral", -0.3, -0.2, "ended"),
        (sun, 40, "sad", -0.3, -0.2, "neutral", -0.05, 0.0, "skipped"),
        (clair, 30, "neutral", -0.05, 0.0, "happy", 0.25, 0.15, "ended"),
        (sun, 20, "happy", 0.3, 0.2, "happy", 0.45, 0.3, "ended"),
        (sun, 4, "happy", 0.45, 0.3, None, None, None, None),
    ]
    ids = []
    for track, minutes_ago, face, v, a, end_face, end_v, end_a, outcome in plays:
        started = now - 60 * minutes_ago
        trace = [[60 * s, v + (end_v if end_v is not None else v) * s / 10, a + 0.02 * s] for s in (1, 2, 3)]
        ids.append(int(db.table("history").insert({
            "track_id": track, "started_at": started, "emotion": face, "valence": v, "arousal": a,
            "intent": "enhance", "end_emotion": end_face, "end_valence": end_v, "end_arousal": end_a,
            "ended_at": started + 240 if outcome else None, "outcome": outcome,
            "played_s": 240 if outcome else None, "trace": json.dumps(trace)}).last_rowid))
    return ids


def test_history_with_like_and_dislike_and_the_mood_picture(server: BackgroundServer, page: Page,
                                                            db: sqlite_utils.Database) -> None:
    ids = add_history(db)
    sign_in(page, server)
    row = page.locator(f"#play-{ids[0]}")
    expect(row).to_contain_text("Clair de Lune")
    expect(row.locator(".before")).to_have_text("sad")
    expect(row.locator(".after")).to_have_text("neutral")
    expect(page.locator(f"#play-{ids[-1]} .after")).to_have_text("—")
    row.get_by_role("button", name="I liked Clair de Lune").click()
    expect(page.locator(f"#play-{ids[0]} .like")).to_have_attribute("aria-pressed", "true")
    assert db.execute("SELECT liked FROM feedback WHERE history_id = ?", [ids[0]]).fetchone()[0] == 1
    page.locator(f"#play-{ids[0]} .dislike").click()
    expect(page.locator(f"#play-{ids[0]} .dislike")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#play-{ids[0]} .like")).to_have_attribute("aria-pressed", "false")
    assert db.execute("SELECT liked FROM feedback WHERE history_id = ?", [ids[0]]).fetchone()[0] == -1

    plane = page.locator("svg.mood-plane")
    plane.scroll_into_view_if_needed()
    expect(plane).to_be_visible()
    box = plane.bounding_box()
    assert box and box["width"] > 250 and box["height"] > 250, "readable on a phone"
    assert plane.locator("circle.reading").count() >= 10
    expect(plane.locator("circle.latest")).to_have_count(1)
    line = page.locator("svg.mood-time polyline.valence")
    expect(line).to_be_visible()
    assert len((line.get_attribute("points") or "").split()) >= 10
    expect(page.locator("#mood-summary")).to_contain_text("face readings from")


def test_search_results_come_into_view_with_more(server: BackgroundServer, page: Page,
                                                 db: sqlite_utils.Database) -> None:
    for index in range(21):
        upsert_track(db, title=f"Rain Song {index + 1}", artist="The Weather", path=f"/m/rain{index}.ogg",
                     valence=0.0, arousal=0.0)
    sign_in(page, server)
    page.fill("#seed", "rain")
    page.click("#seed-card button.primary")
    choices = page.locator("#choices .choice")
    expect(choices).to_have_count(8)
    expect(page.locator("#choices-heading")).to_be_in_viewport()
    expect(choices.first).to_be_in_viewport()
    page.click("#more-choices")
    expect(choices).to_have_count(16)
    expect(choices.nth(8)).to_be_in_viewport()  # the first new one
    page.click("#more-choices")
    expect(choices).to_have_count(21)
    expect(page.locator("#more-choices")).to_have_count(0)
    choices.nth(20).click()
    expect(page.locator("#current-seed")).to_contain_text("Rain Song")


def test_signing_out_revokes_a_saved_cookie(browser: Browser, server: BackgroundServer, page: Page) -> None:
    sign_in(page, server)
    saved = page.context.cookies()
    assert any(cookie["name"] == "emotune_session" for cookie in saved)
    page.click("text=Sign out")
    expect(page.locator("#pin")).to_be_visible()
    outside: list[str] = []
    thief = phone_page(browser, server, outside)
    thief.context.add_cookies(saved)  # type: ignore[arg-type]
    thief.goto(server.url + "/")
    expect(thief.locator("#pin")).to_be_visible()
    assert thief.url.endswith("/login")
    assert thief.request.get(server.url + "/api/state").status == 401
    assert outside == []


def wrong_pin_from(server: BackgroundServer, source: str) -> int:
    """One wrong PIN from `source` (a script on another machine of the network), as a form would."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token, page
        body = urlencode({"pin": "000000", "csrf": token.group(1)})
        conn.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        result = conn.getresponse()
        result.read()
        return result.status
    finally:
        conn.close()


def test_the_owner_signs_in_while_a_stranger_is_blocked(server: BackgroundServer, page: Page) -> None:
    statuses = [wrong_pin_from(server, "127.0.0.2") for _ in range(6)]
    assert statuses == [401] * 5 + [429], "the stranger's address is blocked"
    sign_in(page, server)  # the owner's phone, another address
    expect(page.locator("#now-playing")).to_be_visible()


def test_a_foreign_host_is_refused(playwright: Playwright, server: BackgroundServer) -> None:
    port = urlsplit(server.url).port
    # A name of someone else's that points at the device, as DNS rebinding makes it.
    rebound = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP rebind.example 127.0.0.1"])
    try:
        page = rebound.new_page(viewport=PHONE)
        response = page.goto(f"http://rebind.example:{port}/login")
        assert response is not None and response.status == 400
        expect(page.locator("body")).to_contain_text("answers only to its own names")
        assert page.locator("#pin").count() == 0
        response = page.goto(f"http://localhost:{port}/login")  # a name the device has
        assert response is not None and response.status == 200
    finally:
        rebound.close()


def test_screenshots_of_the_main_page_light_and_dark(config: Config, browser: Browser, server: BackgroundServer,
                                                     db: sqlite_utils.Database) -> None:
    ids = add_history(db)
    contract.record_feedback(db, ids[2], 1)
    sun = track_id(db, "Here Comes the Sun")
    contract.set_seed(db, contract.Seed(sun, "Here Comes the Sun", "The Beatles", "sun"))
    contract.write_status(
        db, state=PlayerState.PLAYING,
        now_playing=NowPlaying(sun, "Here Comes the Sun", "The Beatles", 0.8, 0.4, "features", time.time() - 83),
        emotion={"label": "happy", "confidence": 0.71, "valence": 0.5, "arousal": 0.32, "present": True},
        decision={"emotion": {"label": "happy", "confidence": 0.66, "valence": 0.45, "arousal": 0.3},
                  "intent": "modulate", "target": {"valence": 0.5, "arousal": 0.35},
                  "track": {"valence": 0.8, "arousal": 0.4, "va_source": "features"},
                  "reason": "happy face: modulate (target valence +0.50, arousal +0.35; 0.30 away)"})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    page = phone_page(browser, server, outside)
    sign_in(page, server)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        page.reload()
        expect(page.locator("[data-field=status]")).to_have_text("Playing")
        path = SCREENSHOTS / f"page-{scheme}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 20_000
        page.screenshot(path=str(SCREENSHOTS / f"page-{scheme}-first-screen.png"))
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(22, 21, 19)", "dark mode follows the phone"
    assert outside == []


def test_a_song_that_ends_redraws_the_history(server: BackgroundServer, page: Page,
                                              db: sqlite_utils.Database) -> None:
    ids = add_history(db)
    sign_in(page, server)
    expect(page.locator(f"#play-{ids[-1]}")).to_contain_text("playing now")
    db.table("history").update(ids[-1], {"ended_at": time.time(), "outcome": "ended", "end_emotion": "happy",
                                         "end_valence": 0.5, "end_arousal": 0.3})
    expect(page.locator(f"#play-{ids[-1]}")).to_contain_text("played to the end")  # no reload by hand
    expect(page.locator(f"#play-{ids[-1]} .after")).to_have_text("happy")


def test_a_screen_reader_finds_every_control_by_name_in_reading_order(server: BackgroundServer, page: Page) -> None:
    sign_in(page, server)
    for role, name in (("button", "Sign out"), ("button", "Pause"), ("button", "Skip"), ("slider", "Volume"),
                       ("searchbox", "A song you love right now"), ("combobox", "Music should"),
                       ("button", "Turn off"), ("img", "Your mood today on the plane"),
                       ("img", "Your mood over today")):
        expect(page.get_by_role(role, name=re.compile(name)).first).to_be_attached()  # type: ignore[arg-type]
    nameless = page.evaluate("""[...document.querySelectorAll('button, select, input:not([type=hidden])')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map(e => e.outerHTML)""")
    assert nameless == []
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.textContent.trim() || document.activeElement.id"))
    assert order == ["Sign out", "Pause", "Skip", "volume", "Set"]  # nothing chosen yet: no numbers to open
