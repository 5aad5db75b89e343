"""The page↔daemon contract: what one side writes is what the other reads, typed, and each command once."""

from __future__ import annotations

import json
import time

import pytest
import sqlite_utils

from device import contract, store
from device.config import Config
from device.contract import STALE_AFTER_S, Command, NowPlaying, PlayerState, Seed, Settings


@pytest.fixture
def db(config: Config) -> sqlite_utils.Database:
    return store.open_database(config.database_path)


def test_settings_round_trip_and_defaults(db: sqlite_utils.Database) -> None:
    assert contract.read_settings(db) == Settings(seed=None, intent_override=None, camera_enabled=True)
    contract.set_seed(db, Seed(3, "Moon River", "Henry Mancini", "moon"))
    contract.set_intent_override(db, "calm")
    contract.set_camera_enabled(db, False)
    settings = contract.read_settings(db)
    assert settings.seed == Seed(3, "Moon River", "Henry Mancini", "moon")
    assert settings.seed.describe() == "Moon River — Henry Mancini"
    assert settings.intent_override == "calm"
    assert settings.camera_enabled is False
    contract.set_intent_override(db, None)
    contract.set_seed(db, None)
    assert contract.read_settings(db).intent_override is None
    assert contract.read_settings(db).seed is None


def test_unknown_intent_is_refused(db: sqlite_utils.Database) -> None:
    with pytest.raises(ValueError, match="unknown intent 'party'"):
        contract.set_intent_override(db, "party")


def test_damaged_settings_read_as_unset(db: sqlite_utils.Database) -> None:
    for key, value in (("seed", '{"title": "no id"}'), ("intent_override", '"party"'), ("camera_enabled", "{oops")):
        db.table("settings").upsert({"key": key, "value": value, "updated_at": time.time()}, pk="key")
    assert contract.read_settings(db) == Settings()


def test_each_command_is_taken_once_in_order(db: sqlite_utils.Database) -> None:
    contract.push_command(db, Command.SKIP)
    contract.push_command(db, Command.PAUSE)
    db.table("commands").insert({"command": "dance", "argument": "", "created_at": time.time()})
    assert contract.take_commands(db) == [Command.SKIP, Command.PAUSE]  # the unknown one is dropped
    assert contract.take_commands(db) == []


def test_status_says_when_the_daemon_last_wrote(db: sqlite_utils.Database) -> None:
    assert contract.read_status(db).state is None
    assert contract.read_status(db).alive() is False  # never written: no player
    before = time.time()
    playing = NowPlaying(1, "Clair de Lune", "Debussy", 0.3, -0.5, "features", before)
    contract.write_status(db, state=PlayerState.PLAYING, now_playing=playing, emotion={"label": "sad"})
    status = contract.read_status(db)
    assert status.state is PlayerState.PLAYING
    assert status.now_playing == playing
    assert status.emotion == {"label": "sad"}
    assert status.written_at is not None and status.written_at >= before
    assert status.alive()
    assert not status.alive(now=status.written_at + STALE_AFTER_S + 1)  # a daemon that stopped writing

    contract.write_status(db, state=PlayerState.ERROR, message="camera unplugged")
    status = contract.read_status(db)
    assert (status.state, status.message) == (PlayerState.ERROR, "camera unplugged")
    assert status.now_playing == playing  # parts not written keep their value
    contract.write_status(db, state=PlayerState.STOPPED, now_playing=None)
    status = contract.read_status(db)
    assert status.now_playing is None and status.message == ""
    assert not status.alive()  # a daemon that said it stopped is not running


def test_heartbeat_keeps_a_quiet_daemon_alive(db: sqlite_utils.Database) -> None:
    contract.write_status(db, state=PlayerState.PLAYING)
    first = contract.read_status(db).written_at
    time.sleep(0.01)
    contract.heartbeat(db)
    status = contract.read_status(db)
    assert status.state is PlayerState.PLAYING
    assert status.written_at is not None and first is not None and status.written_at > first


def test_built_in_pieces_are_shown_until_hidden_and_a_now_playing_one_says_so(db: sqlite_utils.Database) -> None:
    assert contract.read_settings(db).starter_hidden is False
    contract.set_starter_hidden(db, True)
    assert contract.read_settings(db).starter_hidden is contract.starter_hidden(db) is True
    contract.set_starter_hidden(db, False)
    assert contract.read_settings(db) == Settings()
    db.table("settings").upsert({"key": "starter_hidden", "value": '"yes"', "updated_at": time.time()}, pk="key")
    assert contract.starter_hidden(db) is False  # anything but true leaves them in
    piece = NowPlaying(2, "Morning Parade", "emotune demo ensemble", 0.5, 0.4, "audio", time.time(), "starter")
    contract.write_status(db, now_playing=piece)
    assert contract.read_status(db).now_playing == piece
    older = {"track_id": 1, "title": "Clair de Lune", "artist": "Debussy", "started_at": 1.0}  # no collection
    assert NowPlaying.from_json(older) == NowPlaying(1, "Clair de Lune", "Debussy", None, None, None, 1.0)


# ---- what the page follows: a command's fate, the volume, the pauses, the plays ---------------------


def test_a_sent_command_is_sent_then_done_or_not_taken(db: sqlite_utils.Database) -> None:
    first = contract.push_command(db, Command.SKIP)
    sent = contract.read_command(db, first)
    assert sent is not None and sent.state() is contract.CommandState.SENT
    assert sent.state(now=sent.created_at + contract.COMMAND_TIMEOUT_S + 1) is contract.CommandState.NOT_TAKEN
    assert contract.take_commands(db) == [Command.SKIP]
    done = contract.read_command(db, first)
    assert done is not None and done.state() is contract.CommandState.DONE
    assert contract.read_command(db, first + 1) is None


def test_the_volume_is_a_bounded_setting(db: sqlite_utils.Database) -> None:
    assert contract.read_settings(db).volume is None
    contract.set_volume(db, 35)
    assert contract.read_volume(db) == 35 and contract.read_settings(db).volume == 35
    for bad in (101, -1, True, 3.5):
        with pytest.raises(ValueError, match="volume must be"):
            contract.set_volume(db, bad)  # type: ignore[arg-type]
    db.execute("UPDATE settings SET value = '900' WHERE key = 'volume'")
    assert contract.read_volume(db) is None


def test_the_time_heard_leaves_out_the_pauses(db: sqlite_utils.Database) -> None:
    started = time.time() - 100
    contract.write_status(db, state=PlayerState.PLAYING, now_playing=NowPlaying(
        1, "Clair de Lune", "Debussy", 0.3, -0.5, "features", started))
    contract.write_pauses(db, 30.0, None)  # paused for 30 s earlier in this song
    elapsed = contract.read_status(db).elapsed_s()
    assert elapsed is not None and 69 <= elapsed <= 71
    contract.write_pauses(db, 30.0, time.time() - 20)  # and paused again 20 s ago
    elapsed = contract.read_status(db).elapsed_s()
    assert elapsed is not None and 49 <= elapsed <= 51
    assert contract.Status().elapsed_s() is None


def add_play(db: sqlite_utils.Database, track_id: int, started_at: float, **columns: object) -> int:
    return int(db.table("history").insert({"track_id": track_id, "started_at": started_at, **columns}).last_rowid)


def test_recent_plays_newest_first_with_faces_trace_and_feedback(db: sqlite_utils.Database) -> None:
    from device.catalog.tracks import upsert_track

    track = upsert_track(db, title="Moon River", artist="Henry Mancini", path="/m.ogg", valence=0.2, arousal=-0.3)
    old = add_play(db, track, 1000.0, emotion="sad", valence=-0.6, arousal=-0.3, outcome="ended", ended_at=1200.0,
                   end_emotion="neutral", end_valence=-0.1, end_arousal=0.0, played_s=200.0,
                   trace="[[60, -0.5, -0.2], [120, -0.3, -0.1], \"junk\"]")
    other = upsert_track(db, title="Yesterday", artist="The Beatles", valence=-0.2, arousal=-0.2)
    new = add_play(db, other, 2000.0, emotion="happy", valence=0.5, arousal=0.4)  # playing, no end yet
    plays = contract.recent_plays(db)
    assert [p.id for p in plays] == [new, old]
    assert plays[1].title == "Moon River" and plays[1].end_emotion == "neutral"
    assert plays[1].trace == ((60.0, -0.5, -0.2), (120.0, -0.3, -0.1))
    assert plays[0].title == "Yesterday" and plays[0].end_valence is None and plays[0].outcome is None
    assert [p.id for p in contract.recent_plays(db, since=1500.0)] == [new]
    assert contract.record_feedback(db, old, 1) and contract.record_feedback(db, old, -1)  # the latest wins
    assert contract.record_feedback(db, new, 1)
    assert contract.recent_plays(db)[1].liked == -1
    rows = list(db.execute("SELECT history_id, track_id, liked FROM feedback ORDER BY history_id").fetchall())
    assert rows == [(old, track, -1), (new, other, 1)]
    assert not contract.record_feedback(db, 12345, 1)
    with pytest.raises(ValueError):
        contract.record_feedback(db, old, 0)


def test_intents_and_outcomes_are_the_strings_stored() -> None:
    from device.contract import INTENTS, Intent, Outcome

    assert INTENTS == ("modulate", "enhance", "calm") and Intent("calm") is Intent.CALM
    assert {outcome.value for outcome in Outcome} == {"ended", "skipped", "error", "paused", "stopped", "interrupted"}
    stored = {"intent": Intent.ENHANCE, "outcome": Outcome.SKIPPED}
    assert json.dumps(stored) == '{"intent": "enhance", "outcome": "skipped"}'


def test_the_intent_override_reads_back_as_an_intent(db: sqlite_utils.Database) -> None:
    contract.set_intent_override(db, "calm")  # the page sends the form's string
    assert contract.read_settings(db).intent_override is contract.Intent.CALM
    assert db.execute("SELECT value FROM settings WHERE key = 'intent_override'").fetchone()[0] == '"calm"'


def test_a_play_the_daemon_writes_reads_back_for_the_page_and_the_learner(db: sqlite_utils.Database) -> None:
    from device.catalog.tracks import upsert_track
    from device.contract import Intent, Outcome, PlayEnding

    track = upsert_track(db, title="Clair de Lune", artist="Debussy", path="/c.ogg", valence=0.3, arousal=-0.5)
    play_id = contract.start_play(db, track, emotion="angry", valence=-0.6, arousal=0.7, intent=Intent.CALM,
                                  reason="tense: calming")
    playing = contract.recent_plays(db)[0]
    assert playing.id == play_id and playing.outcome is None and playing.ended_at is None
    assert contract.finished_plays(db, 10) == []  # the learner sees only plays that ended
    contract.end_play(db, play_id, Outcome.SKIPPED, PlayEnding(end_emotion="neutral", end_valence=-0.2,
                                                                 end_arousal=0.3, played_s=42.0,
                                                                 trace="[[0, -0.6, 0.7], [42, -0.2, 0.3]]"))
    assert db.execute("SELECT intent, outcome FROM history").fetchone() == ("calm", "skipped")  # plain strings
    [shown] = contract.recent_plays(db)
    [learnt] = contract.finished_plays(db, 10)
    assert shown == learnt
    assert shown.intent is Intent.CALM and shown.outcome is Outcome.SKIPPED and shown.skipped
    assert shown.title == "Clair de Lune" and shown.reason == "tense: calming" and shown.played_s == 42.0
    assert shown.start == (-0.6, 0.7) and shown.end == (-0.2, 0.3) and shown.moved == pytest.approx((0.4, -0.4))
    assert shown.trace == ((0.0, -0.6, 0.7), (42.0, -0.2, 0.3))
    assert shown.liked == 0 and shown.approval == -1.0  # skipped, no press
    stamp = contract.history_stamp(db)
    contract.record_feedback(db, play_id, 1)
    assert contract.history_stamp(db) != stamp and contract.finished_plays(db, 10)[0].approval == 1.0
    assert contract.forget(db) == {"plays": 1, "feedback": 1}
    assert contract.recent_plays(db) == []


def test_a_face_nobody_showed_or_that_is_damaged_is_no_point_for_the_learner() -> None:
    from device.contract import NOBODY, Play

    nobody = Play(id=1, track_id=1, intent=None, outcome=None, emotion=NOBODY, valence=0.0, arousal=0.0,
                  end_valence=9e300, end_arousal=0.1)
    assert nobody.start is None and nobody.end is None and nobody.moved is None
    assert (nobody.valence, nobody.arousal) == (0.0, 0.0)  # the page still has what was stored
    assert Play(id=2, track_id=1, intent=None, outcome=None, trace_json="{{").trace == ()


def test_plays_a_power_cut_left_open_are_closed_as_interrupted_and_never_learnt_from(
    db: sqlite_utils.Database,
) -> None:
    from device.learning.records import read_plays

    track = db["tracks"].insert({"title": "Song", "artist": "", "match_key": "|song"}).last_pk
    ended = contract.start_play(db, track, emotion="sad", valence=-0.5, arousal=-0.2, intent="enhance", reason="r")
    contract.end_play(db, ended, contract.Outcome.ENDED)
    cut = contract.start_play(db, track, emotion="sad", valence=-0.5, arousal=-0.2, intent="enhance", reason="r")
    assert contract.recent_plays(db, 5)[0].ended_at is None  # "playing now", for ever, before the fix
    assert contract.close_interrupted(db) == 1
    newest = contract.recent_plays(db, 5)[0]
    assert (newest.id, newest.outcome, newest.ended_at is not None) == (cut, contract.Outcome.INTERRUPTED, True)
    assert [p.id for p in read_plays(db)] == [ended]  # neither helping nor hurting: not learnt from
    assert contract.close_interrupted(db) == 0  # the next start: nothing left open
