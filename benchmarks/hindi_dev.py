"""Hindi on real speech: character error rate and Devanagari share on ../shared/data/hindi-dev.

    .venv/bin/python benchmarks/hindi_dev.py [--limit N] [--data DIR]

Three systems in one run, all with the bundled base model: bare faster-whisper with
language="hi"; the same with the Devanagari steering prompt; and `cpwx transcribe -s hi` (Hindi
decoded through Whisper's Urdu token and read into Devanagari with the Hindi lexicon, per-segment
script check, normalisation; NUMBERS=words because the references spell numbers out).
Scoring follows the data set's README: NFC, punctuation (danda included) and hyphens removed,
whitespace collapsed, nukta folded; CER over the whole set.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import jiwer
from common import run_transcribe, transcript_text

from cpwhisperx.compliance import CueFacts, facts_from_file, measure
from cpwhisperx.evaluation import normalise_hindi
from cpwhisperx.layout import LayoutRules
from cpwhisperx.models import resolve
from cpwhisperx.scripts import STEERING_PROMPTS, letter_scripts

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hindi-dev"


def devanagari_share(texts: list[str]) -> float:
    counts = sum((letter_scripts(t) for t in texts), start=letter_scripts(""))
    total = sum(counts.values())
    return counts["Devanagari"] / total if total else 0.0


def bare(model_path: Path, clips: list[Path], prompt: str | None) -> tuple[list[str], float]:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_path), device="cpu", compute_type="int8")
    started = time.perf_counter()
    texts = []
    for clip in clips:
        segments, _ = model.transcribe(str(clip), language="hi", beam_size=5, vad_filter=True, initial_prompt=prompt)
        texts.append(" ".join(s.text.strip() for s in segments))
    return texts, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips")
    args = parser.parse_args()
    with (args.data / "manifest.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if args.limit:
        rows = rows[: args.limit]
    clips = [args.data / row["file"] for row in rows]
    references = [normalise_hindi(row["reference_text"]) for row in rows]
    model = resolve("base").path
    results: dict[str, tuple[list[str], float]] = {}
    repairs: Counter[str] = Counter()
    cues: list[CueFacts] = []
    with tempfile.TemporaryDirectory() as tmp:
        started, texts = time.perf_counter(), []
        for number, clip in enumerate(clips):
            _, job = run_transcribe(clip, Path(tmp) / str(number), "-s", "hi", "--set", "NUMBERS=words")
            texts.append(transcript_text(job))
            repairs.update(r["method"] for r in json.loads((job / "06_asr" / "script_repairs.json").read_text(encoding="utf-8")))
            # each clip's cues placed after the last clip's, so gaps are measured within a clip only
            offset = cues[-1].end_ms + 10_000 if cues else 0
            cues.extend(replace(c, number=len(cues) + n, start_ms=c.start_ms + offset, end_ms=c.end_ms + offset)
                        for n, c in enumerate(facts_from_file(job / "12_subtitle_generation" / f"{clip.stem}.hi.srt"), start=1))
        results["cpwx transcribe -s hi"] = (texts, time.perf_counter() - started)
    results["bare, language=hi"] = bare(model, clips, None)
    results["bare, Devanagari prompt"] = bare(model, clips, STEERING_PROMPTS["hi"])
    print(f"hindi-dev: {len(clips)} clips, {sum(float(r['duration_s']) for r in rows):.1f} s of speech")
    print(f"{'system':<26} {'CER':>7} {'Devanagari':>11} {'seconds':>8}")
    for name, (texts, seconds) in results.items():
        hypotheses = [normalise_hindi(t) for t in texts]
        cer = jiwer.cer(references, [h or "-" for h in hypotheses])
        print(f"{name:<26} {cer:>7.2%} {devanagari_share(texts):>11.2%} {seconds:>8.1f}")
    print(f"pipeline script repairs: {dict(repairs) or 'none'}")
    report = measure(cues, LayoutRules())
    print(f"pipeline Hindi subtitles (re-read SRT, grapheme counts): {report['cues']} cues, "
          + ", ".join(f"{limit} {share:.0%}" for limit, share in report["within"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
