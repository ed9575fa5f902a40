"""A re-cut of a film reuses the ASR of what it shares with the film transcribed before.

    .venv/bin/python benchmarks/recut_reuse.py [--minutes 20]

The film: scenes of real speech (the LibriVox and cards recordings, each at several speeds and
pitches, so that no two scenes sound alike), each followed by a pause of random length and over a
quiet noise floor of its own (its room tone, which moves with it in a re-cut), as AAC at 96 kbit/s. The re-cut: the same scenes re-encoded at 160 kbit/s, one minute of
scenes cut out of the middle and 30 s of new speech (espeak-ng) inserted at a quarter.

Three runs of `cpwx transcribe`: the film on an empty cache, the re-cut on that cache, and the
re-cut again on another empty cache (a fresh run). Printed: the share of the re-cut's speech that
was decoded (target ≤ 25 %), the re-cut's wall time against the film's (target ≤ 40 %), whether
every reused block holds word for word the film's transcript of it, as transcribed and after the
later stages (target: all), and, beside it, in how many blocks the film's words differ from a
fresh decode of the re-encoded re-cut, with both runs' word error rates against the references.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from common import run_transcribe, transcript_text

from cpwhisperx.media import SAMPLE_RATE
from cpwhisperx.samples import sample_clips

VARIANTS = [(tempo, pitch) for pitch in (1.0, 0.94, 1.06, 0.89, 1.12) for tempo in (1.0, 0.9, 1.1)]
NEW_SPEECH = (
    "The harbour was quiet when the ferry came in, and nobody on the pier said a word. "
    "Three boxes of letters had been left on the bench beside the ticket office. "
    "She counted them twice, then carried the heaviest one up the hill to the school. "
    "By the evening the whole village knew that the post had finally arrived from the mainland. "
    "Her brother opened the first letter with a kitchen knife and read it aloud by the stove."
)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def _pcm(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as handle:
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def _scenes(work: Path, minutes: float) -> tuple[list[np.ndarray], list[str]]:
    """Distinct scenes of speech until their speech and pauses would fill `minutes`, and what
    each says."""
    scenes, references, total = [], [], 0.0
    clips = sample_clips()
    for number, (tempo, pitch) in enumerate(VARIANTS * 4):
        for clip in clips:
            out = work / f"scene-{len(scenes)}.wav"
            rate = int(SAMPLE_RATE * pitch * (1 + number // len(VARIANTS) * 0.03))
            _ffmpeg("-i", str(clip.path), "-af", f"asetrate={rate},aresample={SAMPLE_RATE},atempo={tempo}", "-ac", "1", str(out))
            scenes.append(_pcm(out))
            references.append(clip.reference)
            total += len(scenes[-1]) / SAMPLE_RATE + 3.5
            if total >= minutes * 60:
                return scenes, references
    return scenes, references


def _new_speech(work: Path) -> list[np.ndarray]:
    raw = work / "new.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), NEW_SPEECH], check=True)
    _ffmpeg("-i", str(raw), "-ar", str(SAMPLE_RATE), "-ac", "1", str(work / "new16.wav"))
    speech = _pcm(work / "new16.wav")
    return [speech[i:i + 10 * SAMPLE_RATE] for i in range(0, min(len(speech), 30 * SAMPLE_RATE), 10 * SAMPLE_RATE)]


def _shots(scenes: list[np.ndarray], gaps: list[float], seed: int) -> list[np.ndarray]:
    """Each scene with the pause after it, over a noise floor of its own: a shot keeps its room
    tone wherever a cut puts it."""
    shots = []
    for number, (scene, gap) in enumerate(zip(scenes, gaps, strict=True)):
        shot = np.concatenate([scene, np.zeros(int(gap * SAMPLE_RATE), np.float32)])
        shots.append(shot + np.random.default_rng(seed + number).normal(0, 0.002, len(shot)).astype(np.float32))
    return shots


def _film(shots: list[np.ndarray], out: Path, bitrate: str) -> None:
    """The shots after a second of room tone, as AAC."""
    lead = np.random.default_rng(7).normal(0, 0.002, SAMPLE_RATE).astype(np.float32)
    audio = np.concatenate([lead, *shots])
    wav = out.with_suffix(".wav")
    with wave.open(str(wav), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(np.clip(np.round(audio * 32768), -32768, 32767).astype("<i2").tobytes())
    _ffmpeg("-i", str(wav), "-c:a", "aac", "-b:a", bitrate, str(out))


def _asr(job: Path) -> tuple[dict[str, object], str]:
    manifest = json.loads((job / "06_asr" / "manifest.json").read_text(encoding="utf-8"))
    transcript = json.loads((job / "06_asr" / "transcript.json").read_text(encoding="utf-8"))
    return manifest["cache"], "\n".join(seg["text"].strip() for seg in transcript["segments"])


def _segments(job: Path, final: bool) -> list[dict[str, object]]:
    path = next(p for p in (job / "12_subtitle_generation").glob("*.json") if p.name != "manifest.json") if final \
        else job / "06_asr" / "transcript.json"
    return json.loads(path.read_text(encoding="utf-8"))["segments"]  # type: ignore[no-any-return]


def _words(segments: list[dict[str, object]], start: float = 0.0, end: float = float("inf")) -> str:
    return " ".join(str(seg["text"]).strip() for seg in segments if start - 0.01 <= float(seg["start"]) < end + 0.01)  # type: ignore[arg-type]


def _reused_parts_kept(film_job: Path, recut_job: Path, final: bool) -> tuple[int, int]:
    """Of the re-cut's reused blocks, how many hold word for word the film's words (found in the
    film's transcript as one stretch), and how many were reused."""
    blocks = [b for b in json.loads((recut_job / "06_asr" / "blocks.json").read_text(encoding="utf-8")) if b["result"] != "decoded"]
    film = _words(_segments(film_job, final))
    recut = _segments(recut_job, final)
    return sum(_words(recut, b["start"], b["end"]) in film for b in blocks), len(blocks)


def _differing_blocks(recut_job: Path, fresh_job: Path) -> int:
    blocks = json.loads((recut_job / "06_asr" / "blocks.json").read_text(encoding="utf-8"))
    recut, fresh = _segments(recut_job, False), _segments(fresh_job, False)
    return sum(_words(recut, b["start"], b["end"]) != _words(fresh, b["start"], b["end"]) for b in blocks)


def _wer(reference: str, job: Path) -> float:
    import jiwer
    from common import normalise_english

    return float(jiwer.wer(normalise_english(reference), normalise_english(transcript_text(job))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0, help="length of the film")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (the media, jobs and caches)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        scenes, references = _scenes(work, args.minutes)
        gaps = [random.Random(number).uniform(2.2, 5.0) for number in range(len(scenes))]
        shots = _shots(scenes, gaps, 0)
        _film(shots, work / "film.m4a", "96k")
        film_speech = sum(len(scene) for scene in scenes) / SAMPLE_RATE
        # one minute of scenes (with their pauses) out of the middle, 30 s of new speech at a quarter
        middle, cut, length = len(scenes) // 2, 0, 0.0
        while length < 60.0:
            length += len(shots[middle + cut]) / SAMPLE_RATE
            cut += 1
        new = _new_speech(work)
        quarter = len(scenes) // 4
        new_shots = _shots(new, [3.1, 2.6, 4.2][:len(new)], 1000)
        _film(shots[:quarter] + new_shots + shots[quarter:middle] + shots[middle + cut:], work / "recut.m4a", "160k")
        recut_speech = sum(len(scene) for scene in scenes[:quarter] + new + scenes[quarter:middle] + scenes[middle + cut:]) / SAMPLE_RATE
        recut_reference = " ".join(references[:quarter] + [NEW_SPEECH] + references[quarter:middle] + references[middle + cut:])
        print(f"film: {len(scenes)} scenes, {film_speech:.0f} s of speech, AAC 96k; re-cut: {cut} scenes ({length:.0f} s) cut out, "
              f"{sum(len(n) for n in new) / SAMPLE_RATE:.0f} s of new speech in, {recut_speech:.0f} s of speech, AAC 160k")
        os.environ["CACHE_DIR"] = str(work / "cache")
        first, film_job = run_transcribe(work / "film.m4a", work / "film", "-s", "en")
        second, recut_job = run_transcribe(work / "recut.m4a", work / "recut", "-s", "en")
        os.environ["CACHE_DIR"] = str(work / "fresh-cache")
        fresh, fresh_job = run_transcribe(work / "recut.m4a", work / "fresh", "-s", "en")
        cache, words = _asr(recut_job)
        _, fresh_words = _asr(fresh_job)
        decoded = float(cache["speech_seconds_decoded"])  # type: ignore[arg-type]
        total = decoded + float(cache["speech_seconds_reused"])  # type: ignore[arg-type]
        print(f"film: first run {first:.1f} s; re-cut on its cache {second:.1f} s = {100 * second / first:.1f} % of the first "
              f"(target ≤ 40 %); the re-cut fresh {fresh:.1f} s")
        print(f"re-cut: {cache['blocks_reused']} blocks reused, {cache['blocks_decoded']} decoded; regions {cache['regions_reused']} "
              f"reused, {cache['regions_decoded']} decoded; {decoded:.0f} s of {total:.0f} s of speech decoded = "
              f"{100 * decoded / total:.1f} % (target ≤ 25 %); {cache['seconds_saved']} s of decoding saved")
        kept_asr, reused = _reused_parts_kept(film_job, recut_job, final=False)
        kept_final, _ = _reused_parts_kept(film_job, recut_job, final=True)
        print(f"reused blocks holding word for word the film's transcript: {kept_asr} of {reused} as transcribed, "
              f"{kept_final} of {reused} after the later stages (target: all)")
        differing = _differing_blocks(recut_job, fresh_job)
        print(f"blocks whose words differ between the reused run and a fresh run of the re-cut: {differing} of "
              f"{int(cache['blocks_reused']) + int(cache['blocks_decoded'])} (the film at 96k and its re-cut at 160k decoded afresh)")  # type: ignore[call-overload]
        print(f"WER against the scenes' references: re-cut with reuse {_wer(recut_reference, recut_job):.2%}, "
              f"re-cut fresh {_wer(recut_reference, fresh_job):.2%}")
        if words != fresh_words:
            import difflib

            print("\n".join(difflib.unified_diff(fresh_words.splitlines(), words.splitlines(), "fresh", "reused", lineterm="", n=0)))
    return 0 if kept_asr == kept_final == reused and decoded <= 0.25 * total and second <= 0.4 * first else 1

if __name__ == "__main__":
    raise SystemExit(main())
