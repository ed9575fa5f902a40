"""Diarization error rate: how much of the reference speech is given to the wrong speaker or none.

DER = (missed speech + false alarm + speaker confusion) / reference speech, after mapping each
hypothesis speaker to at most one reference speaker so that the time they share is greatest (the
optimal assignment, as NIST's md-eval and pyannote.metrics compute it). A collar of `collar`
seconds on each side of every reference boundary is not scored (md-eval's `-c`; pyannote.metrics'
`collar` is the whole width, twice this), since where a turn begins is uncertain by that much.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cpwhisperx.diarize import Turn, join_spans


@dataclass(frozen=True)
class DiarizationError:
    reference_seconds: float
    missed_seconds: float
    false_alarm_seconds: float
    confusion_seconds: float
    mapping: dict[str, str]   # hypothesis speaker → reference speaker

    @property
    def rate(self) -> float:
        errors = self.missed_seconds + self.false_alarm_seconds + self.confusion_seconds
        if self.reference_seconds <= 0:
            return 0.0 if errors <= 0 else float("inf")
        return errors / self.reference_seconds


def diarization_error(reference: Sequence[Turn], hypothesis: Sequence[Turn], collar: float = 0.25) -> DiarizationError:
    """The error of `hypothesis` against `reference`; overlapping speech is scored speaker by speaker."""
    excluded = join_spans((t - collar, t + collar) for turn in reference for t in (turn.start, turn.end)) if collar > 0 else []
    times = sorted({t for turn in (*reference, *hypothesis) for t in (turn.start, turn.end)} | {t for span in excluded for t in span})
    ref_speakers = sorted({t.speaker for t in reference})
    hyp_speakers = sorted({t.speaker for t in hypothesis})
    shared = np.zeros((len(hyp_speakers), len(ref_speakers)))
    total = missed = false_alarm = matched_any = 0.0
    for lo, hi in zip(times, times[1:], strict=False):
        length = hi - lo
        if length <= 0 or _inside(lo, hi, excluded):
            continue
        middle = (lo + hi) / 2
        ref = [ref_speakers.index(t.speaker) for t in reference if t.start <= middle < t.end]
        hyp = [hyp_speakers.index(t.speaker) for t in hypothesis if t.start <= middle < t.end]
        ref, hyp = sorted(set(ref)), sorted(set(hyp))
        total += length * len(ref)
        missed += length * max(0, len(ref) - len(hyp))
        false_alarm += length * max(0, len(hyp) - len(ref))
        matched_any += length * min(len(ref), len(hyp))
        for h in hyp:
            for r in ref:
                shared[h, r] += length
    pairs = best_assignment(shared)
    correct = sum(shared[h, r] for h, r in pairs)
    return DiarizationError(round(total, 6), round(missed, 6), round(false_alarm, 6), round(matched_any - correct, 6),
                            {hyp_speakers[h]: ref_speakers[r] for h, r in pairs if shared[h, r] > 0})


def best_assignment(gain: np.ndarray) -> list[tuple[int, int]]:
    """Rows paired with columns, each used at most once, so that the summed gain is greatest
    (the Hungarian method on the square matrix padded with zeros)."""
    rows, cols = gain.shape
    size = max(rows, cols)
    if size == 0:
        return []
    cost = np.zeros((size, size))
    cost[:rows, :cols] = -gain
    # Potentials u, v and the column matched to each row (1-based, 0 is the free sentinel).
    u, v = np.zeros(size + 1), np.zeros(size + 1)
    row_of = np.zeros(size + 1, int)
    way = np.zeros(size + 1, int)
    for i in range(1, size + 1):
        row_of[0] = i
        j0 = 0
        least = np.full(size + 1, np.inf)
        used = np.zeros(size + 1, bool)
        while True:
            used[j0] = True
            i0 = row_of[j0]
            reduced = cost[i0 - 1] - u[i0] - v[1:]
            free = ~used[1:]
            better = free & (reduced < least[1:])
            least[1:][better] = reduced[better]
            way[1:][better] = j0
            candidates = np.where(free, least[1:], np.inf)
            j1 = int(np.argmin(candidates)) + 1
            delta = candidates[j1 - 1]
            u[row_of[used]] += delta
            v[used] -= delta
            least[1:][free] -= delta
            j0 = j1
            if row_of[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            row_of[j0] = row_of[j1]
            j0 = j1
    return [(int(row_of[j]) - 1, j - 1) for j in range(1, size + 1)
            if row_of[j] and row_of[j] - 1 < rows and j - 1 < cols]


def one_speaker(reference: Sequence[Turn]) -> list[Turn]:
    """The naive baseline: all of the reference speech given to a single speaker."""
    spans = join_spans((t.start, t.end) for t in reference)
    return [Turn(a, b, "SPEAKER_1") for a, b in spans]


def _inside(lo: float, hi: float, spans: list[tuple[float, float]]) -> bool:
    return any(a <= lo and hi <= b for a, b in spans)
