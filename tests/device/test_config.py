from pathlib import Path

import pytest

from device.config import Config, load_config, parse_config
from device.errors import ConfigError


def test_no_config_runs_on_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EMOTUNE_CONFIG", raising=False)
    monkeypatch.setenv("EMOTUNE_STATE_DIR", str(tmp_path))
    config = load_config()
    assert config.state_dir == tmp_path
    assert config.database_path == tmp_path / "emotune.db"
    assert config.camera.source == Config().camera.source


def test_file_values_are_typed_and_state_dir_flag_wins(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('state_dir = "/srv/x"\n[camera]\nsource = "replay"\nfps = 2\n[web]\npin = "123456"\n')
    config = load_config(path, state_dir=tmp_path / "flag")
    assert config.camera.source == "replay"
    assert config.camera.fps == 2.0
    assert config.web.pin == "123456"
    assert config.state_dir == tmp_path / "flag"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[camera]\nsorce = 'replay'\n", "unknown key camera.sorce"),
        ("[camera]\nfps = 'fast'\n", "camera.fps must be float"),
        ("[camera]\nsource = 'kinect'\n", "camera.source must be one of"),
        ("[player]\nvolume = 150\n", "player.volume must be between"),
        ("[web]\npin = 'abcd'\n", "web.pin must be 4 to 12 digits"),
        ("[camera\n", "line 1"),
        ("colour = 'blue'\n", "unknown key 'colour'"),
        ("[catalog]\nmusic_dirs = '/media/usb'\n", "catalog.music_dirs must be a list of strings, got str"),
        ("[catalog]\nmusic_dirs = ['music', 3]\n", "catalog.music_dirs[1] must be a string, got int 3"),
        ("[catalog]\nmusic_dirs = ['']\n", "catalog.music_dirs[0] must be a folder"),
        ("[catalog]\nmusic_folders = ['music']\n", "unknown key catalog.music_folders"),
    ],
)
def test_bad_config_names_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"cfg\.toml") as error:
        parse_config(text, "cfg.toml")
    assert message in str(error.value)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.toml")


def test_music_dirs_are_inside_the_state_dir_unless_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Config(state_dir=tmp_path).music_dirs == [tmp_path / "music"]  # the default
    text = '[catalog]\nmusic_dirs = ["music", "/media/usb", "~/Music", "music", "shared/songs"]\n'
    config = parse_config(text, "cfg.toml").with_state_dir(tmp_path / "state")
    assert config.music_dirs == [tmp_path / "state" / "music", Path("/media/usb"), tmp_path / "home" / "Music",
                                 tmp_path / "state" / "shared" / "songs"]
