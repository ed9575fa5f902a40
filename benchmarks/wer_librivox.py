"""Word error rate of `cpwx transcribe` (bundled base model) on the five LibriVox recordings.

    .venv/bin/python benchmarks/wer_librivox.py [--set KEY=VALUE ...]

Scoring: jiwer over the whole set, lower-cased, punctuation stripped, titles and numbers spelt
out as the references spell them. Target: at most 6 %.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import jiwer
from common import normalise_english, run_transcribe, transcript_text

from cpwhisperx.samples import librivox_clips


def main(extra: list[str]) -> int:
    references, hypotheses = [], []
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'clip':<45} {'words':>5} {'errors':>6} {'WER':>7} {'seconds':>8}")
        for number, clip in enumerate(librivox_clips()):
            seconds, job = run_transcribe(clip.path, Path(tmp) / str(number), *extra)
            reference, hypothesis = normalise_english(clip.reference), normalise_english(transcript_text(job))
            out = jiwer.process_words(reference, hypothesis)
            errors = out.substitutions + out.deletions + out.insertions
            print(f"{clip.path.name:<45} {len(reference.split()):>5} {errors:>6} {out.wer:>7.2%} {seconds:>8.1f}")
            if errors:
                print(f"    ref: {reference}\n    hyp: {hypothesis}")
            references.append(reference)
            hypotheses.append(hypothesis)
    total = jiwer.wer(references, hypotheses)
    print(f"WER over {len(references)} clips ({sum(len(r.split()) for r in references)} words): {total:.2%} (target ≤ 6 %)")
    return 0 if total <= 0.06 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
