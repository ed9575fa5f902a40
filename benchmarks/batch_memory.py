"""Peak memory of `cpwx batch` with 2 workers on a 2-hour film and 7 short ones.

    .venv/bin/python benchmarks/batch_memory.py [--hours 2] [--work DIR]

The films are real speech: `memory.py`'s LibriVox reading repeated by FFmpeg to each length
(FLAC), the long one HOURS long, the short ones 1 to 4 minutes. As `memory.py`'s long runs,
tiny.en with beam 1 (a 2-hour film with base takes hours on two cores), given as manifest
columns; cache off. `cpwx batch --workers 2 --threads-per-worker 1`; each film's peak is the
resident memory of the worker while it ran that film (batch.json `peak_memory_mb`).
Flat in length: the long film's peak against the short films' largest (target ≤ 1.5, as memory.py's).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from batch_throughput import duration, run_batch
from memory import speech_file, speech_round

SHORT_MINUTES = (1, 1, 2, 2, 3, 3, 4)
FAST = {"WHISPER_MODEL": "tiny.en", "WHISPER_BEAM_SIZE": "1", "WHISPER_BEST_OF": "1"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        films = work / "films"
        films.mkdir(parents=True, exist_ok=True)
        speech_round(films / "round.wav")
        long_film = speech_file(round(args.hours * 60), films / "round.wav", films)
        shorts = []
        for number, minutes in enumerate(SHORT_MINUTES):
            path = speech_file(minutes, films / "round.wav", films)
            shorts.append(path.rename(films / f"short_{number + 1}_{minutes}min.flac"))
        manifest = films / "films.csv"
        manifest.write_text(f"media,source_language,{','.join(FAST)}\n"
                            + "".join(f"{p.name},en,{','.join(FAST.values())}\n" for p in [long_film, *shorts]), encoding="utf-8")
        audio = sum(duration(p) for p in [long_film, *shorts])
        print(f"8 films, {audio / 3600:.2f} h of audio: {long_film.name} and {len(shorts)} of 1–4 minutes; {' '.join(f'{k}={v}' for k, v in FAST.items())}")
        seconds, _, record = run_batch(manifest, work / "batch", "2x1")
        print(f"cpwx batch, {record['workers']} workers × {record['threads_per_worker']} thread: {seconds:.0f} s")
        print(f"{'film':<26} {'audio s':>8} {'worker':>10} {'seconds':>8} {'peak MB':>8}")
        peaks = {}
        for entry in record["films"]:
            peaks[entry["name"]] = entry["peak_memory_mb"]
            print(f"{entry['name']:<26} {entry['audio_seconds']:>8.0f} {entry['worker'] or '-':>10} {entry['seconds']:>8.1f} "
                  f"{entry['peak_memory_mb']:>8.1f}")
        short_peak = max(peaks[p.name] for p in shorts)
        print(f"peak of the {args.hours:g}-hour film {peaks[long_film.name]:.0f} MB, of the short films at most {short_peak:.0f} MB: "
              f"ratio {peaks[long_film.name] / short_peak:.3f} (target ≤ 1.5); both workers together at most "
              f"{peaks[long_film.name] + short_peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
