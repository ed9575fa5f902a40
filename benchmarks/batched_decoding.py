"""Batched decoding (WHISPER_BATCH_SIZE=8) against sequential decoding, in one run: speed and accuracy.

    .venv/bin/python benchmarks/batched_decoding.py [--batch-size N] [--work DIR]

Four sets, each decoded by `cpwx transcribe` twice, sequentially and batched, cache off:
the 2-minute sample film (WER), the five LibriVox recordings as five runs (WER over the set), the
30 hindi-dev clips as 30 runs, `-s hi` (CER over the set, scored as `hindi_dev.py` scores), and the
same clips joined into 4 films of about 70 s, several blocks each (CER over the 4). Times: the whole command, and the ASR stage's decoding alone (language detection and
decoding, from its manifest). Targets: WER within 0.3 points and CER within 1 point of
sequential; speed ≥ 1.5×.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import jiwer
from common import HINDI_DEV, asr_seconds, hindi_films, normalise_english, run_transcribe, transcript_text

from cpwhisperx.evaluation import normalise_hindi
from cpwhisperx.samples import build_sample_film, film_reference_text, librivox_clips

NO_CACHE = ("--set", "CACHE_ENABLED=false")


def decode_set(name: str, media: list[Path], work: Path, extra: tuple[str, ...]) -> tuple[float, float, list[str]]:
    """Whole-command seconds, ASR seconds and the transcripts of every file of a set."""
    total = asr = 0.0
    texts = []
    for number, path in enumerate(media):
        seconds, job = run_transcribe(path, work / name / str(number), *NO_CACHE, *extra)
        total += seconds
        asr += asr_seconds(job)
        texts.append(transcript_text(job))
    return total, asr, texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        film = work / "film_2min.mp4"
        segments = build_sample_film(film, repeat=2, min_duration=125.0)
        clips = librivox_clips()
        with (HINDI_DEV / "manifest.tsv").open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        joined = hindi_films(work, 4)
        hindi = ("-s", "hi", "--set", "NUMBERS=words")
        sets = [
            ("2-minute film", [film], (), "WER", [film_reference_text(segments)]),
            ("LibriVox clips", [c.path for c in clips], (), "WER", [c.reference for c in clips]),
            ("hindi-dev clips", [HINDI_DEV / row["file"] for row in rows], hindi, "CER", [row["reference_text"] for row in rows]),
            ("hindi-dev, 4 films", [path for path, _ in joined], hindi, "CER", [reference for _, reference in joined]),
        ]
        print(f"{'set':<22} {'decoding':<10} {'error':>7} {'command s':>10} {'ASR s':>8}")
        for name, media, extra, metric, references in sets:
            rows = []
            for label, batch in (("sequential", ()), (f"batch {args.batch_size}", ("--set", f"WHISPER_BATCH_SIZE={args.batch_size}"))):
                total, asr, texts = decode_set(f"{name}-{label}".replace(" ", "_"), media, work, (*extra, *batch))
                if metric == "WER":
                    error = jiwer.wer([normalise_english(r) for r in references], [normalise_english(t) for t in texts])
                else:
                    error = jiwer.cer([normalise_hindi(r) for r in references], [normalise_hindi(t) or "-" for t in texts])
                rows.append((total, asr, error, texts))
                print(f"{name:<22} {label:<10} {error:>7.2%} {total:>10.1f} {asr:>8.1f}")
            (seq_total, seq_asr, seq_error, seq_texts), (bat_total, bat_asr, bat_error, bat_texts) = rows
            same = sum(a == b for a, b in zip(seq_texts, bat_texts, strict=True))
            print(f"{'':<22} {metric} {100 * (bat_error - seq_error):+.2f} points, speed {seq_total / bat_total:.2f}x (command), "
                  f"{seq_asr / bat_asr:.2f}x (ASR); identical transcripts {same}/{len(seq_texts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
