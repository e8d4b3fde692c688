"""Where the CLI's API URL and token come from: each setting on its own, flag > environment >
profile; the token is never part of a representation."""

from __future__ import annotations

from pathlib import Path

import pytest
from media_pipeline_client.config import ConfigError, Settings, resolve


@pytest.fixture
def profile_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[profile.default]\napi_url = "http://profile-default"\ntoken = "tok-default"\n'
        '[profile.work]\napi_url = "http://profile-work/"\ntoken = "tok-work"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MEDIA_CONFIG", str(path))
    for name in ("MEDIA_API_URL", "MEDIA_TOKEN", "MEDIA_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_flags_win_over_the_environment_which_wins_over_the_profile(
    profile_file: Path, monkeypatch: pytest.MonkeyPatch
):
    assert resolve(None, None, None) == Settings("http://profile-default", "tok-default")
    monkeypatch.setenv("MEDIA_TOKEN", "tok-env")
    assert resolve(None, None, None) == Settings("http://profile-default", "tok-env")
    assert resolve("http://flag/", None, None) == Settings("http://flag", "tok-env")
    assert resolve(None, "tok-flag", "work") == Settings("http://profile-work", "tok-flag")
    monkeypatch.setenv("MEDIA_PROFILE", "work")
    monkeypatch.delenv("MEDIA_TOKEN")
    assert resolve(None, None, None) == Settings("http://profile-work", "tok-work")


def test_missing_settings_and_profiles_are_named(profile_file: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ConfigError, match=r"\[profile.home\]"):
        resolve(None, None, "home")
    monkeypatch.setenv("MEDIA_CONFIG", str(profile_file.parent / "absent.toml"))
    with pytest.raises(ConfigError, match="no API URL"):
        resolve(None, "tok", None)
    with pytest.raises(ConfigError, match="no token"):
        resolve("http://x", None, None)
    profile_file.write_text("[profile.default\n", encoding="utf-8")
    monkeypatch.setenv("MEDIA_CONFIG", str(profile_file))
    with pytest.raises(ConfigError, match=str(profile_file)):
        resolve(None, None, None)


def test_the_token_is_not_in_the_settings_representation():
    assert "secret-token" not in repr(Settings("http://x", "secret-token"))
