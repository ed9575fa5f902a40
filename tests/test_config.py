"""Configuration: precedence, validation messages, the generated reference, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpwhisperx.config import Settings, config_hash, config_subset, load_config, reference_markdown, to_env_text
from cpwhisperx.errors import ConfigError, ExitCode

REPO = Path(__file__).resolve().parent.parent


def test_precedence_defaults_file_job_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CPWX_CONFIG", raising=False)
    for key in ("WHISPER_BEAM_SIZE", "WHISPER_BEST_OF", "VAD_THRESHOLD", "LOG_LEVEL"):
        monkeypatch.delenv(key, raising=False)
    assert load_config(cwd=tmp_path).WHISPER_BEAM_SIZE == 5
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / ".env.pipeline").write_text("WHISPER_BEAM_SIZE=4\nWHISPER_BEST_OF=3\nVAD_THRESHOLD=0.4\n")
    job_env = tmp_path / "job.env"
    job_env.write_text("WHISPER_BEAM_SIZE=3\nWHISPER_BEST_OF=2\n")
    settings = load_config(job_env=job_env, cwd=tmp_path, environ={"WHISPER_BEAM_SIZE": "2"})
    assert (settings.WHISPER_BEAM_SIZE, settings.WHISPER_BEST_OF, settings.VAD_THRESHOLD) == (2, 2, 0.4)
    settings = load_config(job_env=job_env, cwd=tmp_path, environ={"WHISPER_BEAM_SIZE": "2"}, overrides={"WHISPER_BEAM_SIZE": "1"})
    assert settings.WHISPER_BEAM_SIZE == 1


def test_cpwx_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = tmp_path / "mine.env"
    named.write_text("WHISPER_MODEL=tiny.en\n")
    monkeypatch.setenv("CPWX_CONFIG", str(named))
    assert load_config(environ={}).WHISPER_MODEL == "tiny.en"
    monkeypatch.setenv("CPWX_CONFIG", str(tmp_path / "absent.env"))
    with pytest.raises(ConfigError, match="CPWX_CONFIG"):
        load_config(environ={})


def test_round_trip_through_env_file(tmp_path: Path) -> None:
    settings = Settings(WHISPER_TEMPERATURE=[0.0, 0.5], WHISPER_INITIAL_PROMPT='He said "नमस्ते", then = left; costs ${HOME} $5.',
                        SUBTITLE_FORMATS=["vtt"])
    path = tmp_path / ".env.pipeline"
    path.write_text(to_env_text(settings), encoding="utf-8")
    again = load_config(job_env=path, cwd=tmp_path, environ={})
    assert again == settings


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"WHISPER_DEVICE": "gpu"}, ["WHISPER_DEVICE=gpu", "'auto', 'cpu', 'cuda' or 'mps'"]),
        ({"WHISPER_BEAM_SIZE": "0"}, ["WHISPER_BEAM_SIZE=0", "greater than or equal to 1"]),
        ({"WHISPER_TEMPERATURE": "0,1.5"}, ["WHISPER_TEMPERATURE=0,1.5", "between 0 and 1"]),
        ({"VAD_ENABLED": "perhaps"}, ["VAD_ENABLED=perhaps", "boolean"]),
        ({"SOURCE_LANGUAGE": "hindi"}, ["SOURCE_LANGUAGE=hindi", "did you mean 'hi'"]),
        ({"SUBTITLE_FORMATS": "srt,docx"}, ["docx", "'srt', 'vtt', 'ass', 'ttml' or 'ebu-tt-d'"]),
        ({"SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE": "zh=16"}, ["SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE=zh=16", "language:characters"]),
        ({"SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE": "zh:5"}, ["zh:5", "between 10 and 200"]),
        ({"SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE": "mandarin:16"}, ["SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE=mandarin:16", "mandarin"]),
    ],
)
def test_invalid_values_are_explained(tmp_path: Path, values: dict[str, str], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=tmp_path, environ={}, overrides=values)
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    for fragment in expected:
        assert fragment in str(caught.value)


def test_line_length_per_language_replaces_only_the_languages_named(tmp_path: Path) -> None:
    from cpwhisperx.subtitle_rules import rules_from

    default = Settings()
    assert {lang: rules_from(default, lang).max_line_length for lang in ("zh", "ja", "th", "en")} == {"zh": 16, "ja": 16, "th": 35, "en": 42}
    settings = load_config(cwd=tmp_path, environ={}, overrides={"SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE": "th:32, JA:16",
                                                                 "SUBTITLE_MAX_LINE_LENGTH": "37"})
    lengths = {lang: rules_from(settings, lang).max_line_length for lang in ("zh", "yue", "ja", "ko", "th", "en", "hi")}
    assert lengths == {"zh": 16, "yue": 16, "ja": 16, "ko": 16, "th": 32, "en": 37, "hi": 37}
    path = tmp_path / ".env.pipeline"
    path.write_text(to_env_text(settings), encoding="utf-8")
    assert load_config(job_env=path, cwd=tmp_path, environ={}) == settings


def test_unknown_key_suggests_closest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean WHISPER_CONDITION_ON_PREVIOUS_TEXT"):
        load_config(cwd=tmp_path, environ={}, overrides={"WHISPER_CONDITION_ON_PREVIOUS": "false"})


def test_config_hash_covers_only_the_stage_keys() -> None:
    base, changed = Settings(), Settings(VAD_THRESHOLD=0.3)
    asr_keys = ("WHISPER_", "SOURCE_LANGUAGE")
    assert config_hash(config_subset(base, asr_keys)) == config_hash(config_subset(changed, asr_keys))
    assert config_hash(config_subset(base, ("VAD_",))) != config_hash(config_subset(changed, ("VAD_",)))
    assert set(config_subset(base, asr_keys)) >= {"WHISPER_MODEL", "SOURCE_LANGUAGE"}


def test_every_key_documented_and_reference_up_to_date() -> None:
    for key, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 10, key
    assert (REPO / "docs" / "configuration.md").read_text(encoding="utf-8") == reference_markdown(), \
        "regenerate with: cpwx config keys > docs/configuration.md"


def test_every_setting_a_stage_reads_is_in_its_config_hash() -> None:
    """A stage re-runs when a key it reads changes: its own keys, or those of an earlier stage
    (whose re-run re-runs it). Where files live (models, cache) does not change a result."""
    import re

    from cpwhisperx.stages import STAGES

    placement = {"MODELS_DIR", "CACHE_DIR", "OUTPUT_DIR", "LOG_LEVEL"}
    covered: set[str] = set()
    for spec in STAGES:
        covered |= set(config_subset(Settings(), spec.config_keys))
        module = REPO / "src" / "cpwhisperx" / "stages" / f"{spec.name}.py"
        if not module.exists():
            continue
        read = set(re.findall(r"\b(?:s|settings|io\.settings)\.([A-Z][A-Z0-9_]+)\b", module.read_text(encoding="utf-8")))
        assert read - covered - placement == set(), f"{spec.name} reads keys outside its config hash"


def test_malformed_line_names_file_and_line_without_its_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CPWX_CONFIG", raising=False)
    (tmp_path / "config").mkdir()
    user_file = tmp_path / "config" / ".env.pipeline"
    for text, line in (("WHISPER_BEAM_SIZE=3\nVAD_THRESHOLD 0.4\n", 2), ("# ok\n\nWHISPER_MODEL='base\n", 3),
                       ("WHISPER_BEAM_SIZE=3\n=1\n", 2), ("WHISPER_BEAM_SIZE\n", 1)):
        user_file.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(cwd=tmp_path, environ={})
        assert f"'{user_file}', line {line}: not a KEY=VALUE line" in str(caught.value), text
        assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_a_file_that_is_no_configuration_is_never_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CPWX_CONFIG pointed at a password file: the message names the file and line, never a byte of it."""
    shadow = tmp_path / "shadow"
    shadow.write_text("root:$6$SECRETHASH$abc:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", encoding="utf-8")
    monkeypatch.setenv("CPWX_CONFIG", str(shadow))
    with pytest.raises(ConfigError) as caught:
        load_config(environ={})
    assert "line 1" in str(caught.value) and "SECRETHASH" not in str(caught.value) and "root:" not in str(caught.value)
    shadow.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match="not a text file"):
        load_config(environ={})


@pytest.mark.parametrize("origin", ["--set", "file"])
def test_secrets_are_refused_as_configuration(origin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CPWX_CONFIG", raising=False)
    if origin == "file":
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / ".env.pipeline").write_text("TMDB_API_KEY=k3y-value-123\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=tmp_path, environ={}, overrides={"TMDB_API_KEY": "k3y-value-123"} if origin == "--set" else None)
    message = str(caught.value)
    assert "secret" in message and "environment" in message and "config/secrets.json" in message
    assert "TMDB_TITLE" not in message and "k3y-value-123" not in message


def test_english_only_model_refused_for_other_languages() -> None:
    for values in ({"WHISPER_MODEL": "tiny.en", "SOURCE_LANGUAGE": "hi"},
                   {"WHISPER_MODEL": "distil-small.en", "LANGUAGE_CANDIDATES": "hi,en"}):
        with pytest.raises(ConfigError) as caught:
            Settings(**values)
        assert "English only" in str(caught.value) and "base" in str(caught.value)
    assert Settings(WHISPER_MODEL="tiny.en", SOURCE_LANGUAGE="en").WHISPER_MODEL == "tiny.en"
    assert Settings(WHISPER_MODEL="tiny.en").SOURCE_LANGUAGE == "auto"
