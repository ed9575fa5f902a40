"""The built-in diarization backend: no model to download, numpy alone.

Each speech region is cut at its pauses into stretches of voice; each stretch is described every
0.75 s by the statistics (mean, spread) of 1.5 s of MFCCs and their deltas, normalised over the
film. Unless it is given, the number of speakers is read from the eigengap of the windows' affinity
graph (NME-SC); the windows are clustered agglomeratively (average linkage, cosine distance),
refined by k-means, and clusters no further apart than two stretches of one voice are joined.
Every 0.25 s step is then given to the nearest speaker by a Viterbi pass that charges each change
of speaker within a stretch, which puts the boundaries where the voices change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cpwhisperx.config import Settings
from cpwhisperx.diarize import AudioSource, SpeakerCount, Turn, audio_source, label_in_order, merge_turns
from cpwhisperx.diarize.features import FRAMES_PER_SECOND, SAMPLE_RATE, region_features

log = logging.getLogger("cpwhisperx.diarize.builtin")

WINDOW_S = 1.5
HOP_S = 0.75
STEP_S = 0.25          # resolution of the final labelling
STEP_CONTEXT_S = 1.0   # audio described around each step
MIN_REGION_S = 0.3
MIN_PAUSE_S = 0.25     # a quieter stretch this long inside a speech region is a pause
MIN_RUN_S = 0.2        # shorter stretches of voice are clicks and breaths
MOST_CLUSTERED = 2000  # windows clustered pairwise; the others join the nearest cluster
SWITCH_PENALTY = 0.3   # cosine similarity given up to change speaker between two steps
MIN_TURN_S = 1.0       # shortest turn inside a stretch of voice (between pauses any length goes)
MOST_SPECTRAL = 300    # windows (spread over the film) whose affinity graph gives the number of speakers
MIN_VOICED_FRAMES = 10  # 100 ms of voice, the least that describes it
LINK_CHOICES = 24      # neighbour counts tried in that graph
FEWEST_LINKS = 6       # neighbours of each window in that graph, at the least
# Two stretches of one voice lie about 0.4-0.6 apart by Fisher's ratio, two voices 0.9 and more.
ONE_VOICE_SEPARATION = 0.75


@dataclass(frozen=True)
class RegionFeatures:
    start: float            # seconds
    features: np.ndarray    # (frames, dims), film-normalised
    voiced: np.ndarray      # (frames,) bool: loud enough to describe the voice


class BuiltinDiarizer:
    name = "builtin"

    model_files: tuple[Path, ...] = ()   # no model: nothing to download or replace

    def diarize(self, audio: AudioSource | np.ndarray, regions: list[tuple[float, float]], count: SpeakerCount) -> list[Turn]:
        source = audio_source(audio)
        usable = _usable_regions(regions, source.samples / SAMPLE_RATE)
        if not usable:
            return []
        described = [run for region in _describe(source, usable) for run in _voiced_runs(region)]
        windows = [(r, a, b) for r in described for a, b in _spans(len(r.features), WINDOW_S, HOP_S)]
        if not windows:
            return []
        statistics = np.array([_statistics(r, a, b) for r, a, b in windows], np.float32)
        scale = _Standardiser(statistics)
        embeddings = scale(statistics)
        labels = _cluster(embeddings, statistics, count)
        speakers = int(labels.max()) + 1
        log.info("builtin diarization: %d window(s) in %d stretch(es) of voice, %d speaker(s)", len(windows), len(described), speakers)
        centroids = _normalise(np.array([embeddings[labels == k].mean(axis=0) for k in range(speakers)]))
        turns: list[tuple[float, float, int]] = []
        for run in described:
            turns += _label_region(run, run.start, run.start + len(run.features) / FRAMES_PER_SECOND, centroids, scale)
        names = label_in_order([k for _, _, k in turns])
        return merge_turns([Turn(round(float(a), 3), round(float(b), 3), names[k]) for a, b, k in turns])


def create(settings: Settings) -> BuiltinDiarizer:
    return BuiltinDiarizer()


def _usable_regions(regions: list[tuple[float, float]], duration: float) -> list[tuple[float, float]]:
    clipped = [(max(0.0, a), min(duration, b)) for a, b in sorted(regions)]
    return [(a, b) for a, b in clipped if b - a >= MIN_REGION_S]


def _describe(audio: AudioSource, regions: list[tuple[float, float]]) -> list[RegionFeatures]:
    raw = []
    for lo, hi in regions:
        features, energy = region_features(audio, int(lo * SAMPLE_RATE), int(hi * SAMPLE_RATE))
        # Pauses inside a region describe the room, not the voice.
        voiced = energy > (np.percentile(energy, 95) - 7.0) if len(energy) else np.zeros(0, bool)
        raw.append((lo, features, voiced))
    pooled = np.vstack([f[v] for _, f, v in raw if v.any()] or [np.zeros((1, raw[0][1].shape[1]), np.float32)])
    mean, std = pooled.mean(axis=0), pooled.std(axis=0) + 1e-5
    del pooled
    for _, features, _ in raw:   # in place: a copy would hold the film's features twice
        features -= mean
        features /= std
    return [RegionFeatures(lo, f, v) for lo, f, v in raw]


def _voiced_runs(region: RegionFeatures) -> list[RegionFeatures]:
    """The stretches of voice in a speech region, split at its pauses: where speakers take turns,
    and where a window must not reach across (it would describe two voices at once)."""
    voiced = region.voiced
    if not voiced.any():
        return []
    gap = int(MIN_PAUSE_S * FRAMES_PER_SECOND)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    starts, ends = list(edges[::2]), list(edges[1::2])
    runs: list[list[int]] = []
    for a, b in zip(starts, ends, strict=True):
        if runs and a - runs[-1][1] < gap:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    shortest = int(MIN_RUN_S * FRAMES_PER_SECOND)
    return [RegionFeatures(region.start + a / FRAMES_PER_SECOND, region.features[a:b], voiced[a:b])
            for a, b in runs if b - a >= shortest]


def _spans(frames: int, length_s: float, hop_s: float) -> list[tuple[int, int]]:
    length, hop = int(length_s * FRAMES_PER_SECOND), int(hop_s * FRAMES_PER_SECOND)
    if frames <= length:
        return [(0, frames)] if frames else []
    starts = list(range(0, frames - length + 1, hop))
    if starts[-1] + length < frames:
        starts.append(frames - length)
    return [(s, s + length) for s in starts]


def _statistics(region: RegionFeatures, a: int, b: int) -> np.ndarray:
    part, voiced = region.features[a:b], region.voiced[a:b]
    if voiced.sum() >= MIN_VOICED_FRAMES:
        part = part[voiced]
    return np.concatenate([part.mean(axis=0), part.std(axis=0)]) if len(part) else np.zeros(2 * region.features.shape[1], np.float32)


class _Standardiser:
    """Per-dimension z-scores over the film's windows, so that every statistic weighs alike."""

    def __init__(self, embeddings: np.ndarray) -> None:
        self.mean = embeddings.mean(axis=0)
        self.std = embeddings.std(axis=0) + 1e-5

    def __call__(self, embeddings: np.ndarray) -> np.ndarray:
        return _normalise((embeddings - self.mean) / self.std)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return (vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-8)).astype(np.float32)


def _cluster(embeddings: np.ndarray, statistics: np.ndarray, count: SpeakerCount) -> np.ndarray:
    n = len(embeddings)
    candidates = count.candidates(n)
    if n == 1 or candidates.stop - 1 <= 1:
        return np.zeros(n, int)
    sample = np.linspace(0, n - 1, min(n, MOST_CLUSTERED)).round().astype(int) if n > MOST_CLUSTERED else np.arange(n)
    speakers = candidates.start if len(candidates) == 1 else _estimate_count(embeddings[sample], candidates)
    chosen = _refine(embeddings[sample], _average_linkage(embeddings[sample], speakers)) if speakers > 1 else np.zeros(len(sample), int)
    if count.exact is None:
        chosen = _join_alike(statistics[sample], chosen, candidates.start)
        speakers = int(chosen.max()) + 1
    log.debug("builtin diarization: %d speaker(s) among %s", speakers, list(candidates))
    if speakers == 1:
        return np.zeros(n, int)
    if len(sample) == n:
        return chosen
    centroids = _normalise(np.array([embeddings[sample][chosen == k].mean(axis=0) for k in range(chosen.max() + 1)]))
    return np.unique(np.argmax(embeddings @ centroids.T, axis=1), return_inverse=True)[1]


def _average_linkage(embeddings: np.ndarray, clusters_wanted: int) -> np.ndarray:
    """A partition into `clusters_wanted` clusters, by merging the closest two in turn."""
    n = len(embeddings)
    distance = (1.0 - embeddings @ embeddings.T).astype(np.float64)
    np.fill_diagonal(distance, np.inf)
    sizes = np.ones(n)
    members = np.arange(n)   # cluster id of each window (the id of a surviving row)
    clusters = n
    while clusters > clusters_wanted:
        flat = int(np.argmin(distance))
        i, j = divmod(flat, n)
        # Lance-Williams update for average linkage: j joins i.
        merged = (sizes[i] * distance[i] + sizes[j] * distance[j]) / (sizes[i] + sizes[j])
        distance[i, :], distance[:, i] = merged, merged
        distance[i, i] = np.inf
        distance[j, :], distance[:, j] = np.inf, np.inf
        sizes[i] += sizes[j]
        members[members == j] = i
        clusters -= 1
    return np.unique(members, return_inverse=True)[1]


def _refine(embeddings: np.ndarray, labels: np.ndarray, rounds: int = 20) -> np.ndarray:
    """Spherical k-means from the agglomerative partition: each window moved to its nearest
    centroid until none moves, undoing early greedy merges."""
    k = int(labels.max()) + 1
    for _ in range(rounds):
        centroids = _normalise(np.array([embeddings[labels == c].mean(axis=0) if (labels == c).any() else np.zeros(embeddings.shape[1])
                                         for c in range(k)]))
        moved = np.argmax(embeddings @ centroids.T, axis=1)
        if np.array_equal(moved, labels) or len(np.unique(moved)) < k:
            break
        labels = moved
    return labels


def _join_alike(statistics: np.ndarray, labels: np.ndarray, fewest: int) -> np.ndarray:
    """The partition with the two closest clusters joined while they are no further apart than
    two stretches of one voice: Fisher's ratio of their window statistics (distance of the means
    for their spread, averaged over the statistics) on the film-normalised values, which keep the
    spread of a single voice small."""
    labels = labels.copy()
    while labels.max() + 1 > fewest:
        clusters = [statistics[labels == k] for k in range(int(labels.max()) + 1)]
        ratios = {(i, j): _fisher(clusters[i], clusters[j]) for i in range(len(clusters)) for j in range(i + 1, len(clusters))}
        (i, j), closest = min(ratios.items(), key=lambda item: item[1])
        if closest >= ONE_VOICE_SEPARATION:
            break
        labels[labels == j] = i
        labels = np.unique(labels, return_inverse=True)[1]
    return labels


def _fisher(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or len(b) < 2:
        return 0.0   # a cluster of one window is no voice of its own
    return float(((a.mean(axis=0) - b.mean(axis=0)) ** 2 / (a.var(axis=0) + b.var(axis=0) + 1e-6)).mean())


def _estimate_count(embeddings: np.ndarray, candidates: range) -> int:
    """The number of speakers from the eigengap of the windows' affinity graph, each window linked
    to its p most similar ones, p chosen where the gap is widest for the fewest links (the
    normalised maximum eigengap of NME-SC, Park et al. 2019). A widest gap before the second
    eigenvalue means one speaker."""
    n = len(embeddings)
    if n < 2 * FEWEST_LINKS:
        return candidates.start
    if n > MOST_SPECTRAL:
        embeddings = embeddings[np.linspace(0, n - 1, MOST_SPECTRAL).round().astype(int)]
        n = MOST_SPECTRAL
    similarity = embeddings @ embeddings.T
    order = np.argsort(-similarity, axis=1)
    most = candidates.stop - 1
    best: tuple[float, int] | None = None
    for links in sorted({int(v) for v in np.linspace(FEWEST_LINKS, max(FEWEST_LINKS, n // 3 - 1), LINK_CHOICES)}):
        affinity = np.zeros((n, n))
        np.put_along_axis(affinity, order[:, :links], 1.0, axis=1)
        affinity = (affinity + affinity.T) / 2
        eigenvalues = np.linalg.eigvalsh(np.diag(affinity.sum(axis=1)) - affinity)
        eigenvalues = eigenvalues / eigenvalues[-1]
        gaps = np.diff(eigenvalues[:most + 1])
        allowed = gaps[candidates.start - 1:most]
        k = int(np.argmax(allowed)) + candidates.start
        ratio = links / n / max(float(allowed.max()), 1e-9)
        if best is None or ratio < best[0]:
            best = (ratio, k)
    assert best is not None
    return best[1]


def _label_region(region: RegionFeatures, lo: float, hi: float, centroids: np.ndarray, scale: _Standardiser) -> list[tuple[float, float, int]]:
    frames = len(region.features)
    step = int(STEP_S * FRAMES_PER_SECOND)
    half = int(STEP_CONTEXT_S * FRAMES_PER_SECOND / 2)
    steps = max(1, int(np.ceil((hi - lo) / STEP_S)))
    if len(centroids) == 1 or frames == 0:
        return [(lo, hi, 0)]
    described, silent = [], []
    for s in range(steps):
        middle = min(frames - 1, s * step + step // 2)
        a, b = max(0, middle - half), min(frames, middle + half)
        described.append(_statistics(region, a, b))
        silent.append(region.voiced[a:b].sum() < MIN_VOICED_FRAMES)
    similarity = scale(np.array(described, np.float32)) @ centroids.T
    # A pause says nothing of who speaks: it goes with the speaker around it.
    similarity[np.array(silent)] = 0.0
    path = _absorb_short(_viterbi(similarity, SWITCH_PENALTY), int(MIN_TURN_S / STEP_S))
    return [(lo + s * STEP_S, min(hi, lo + (s + 1) * STEP_S), int(k)) for s, k in enumerate(path)]


def _absorb_short(path: np.ndarray, shortest: int) -> np.ndarray:
    """Within a stretch of voice, a speaker's run of fewer than `shortest` steps given to the longer
    of its neighbours: turns that short, with no pause around them, are mostly a voice's own drift."""
    path = path.copy()
    while True:
        edges = np.flatnonzero(np.diff(path)) + 1
        bounds = [0, *edges.tolist(), len(path)]
        runs = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
        if len(runs) == 1:
            return path
        index = min(range(len(runs)), key=lambda i: runs[i][1] - runs[i][0])
        a, b = runs[index]
        if b - a >= shortest:
            return path
        neighbours = [runs[i] for i in (index - 1, index + 1) if 0 <= i < len(runs)]
        longer = max(neighbours, key=lambda r: r[1] - r[0])
        path[a:b] = path[longer[0]]


def _viterbi(scores: np.ndarray, penalty: float) -> np.ndarray:
    """The label sequence of highest total score, each change of label costing `penalty`."""
    steps, k = scores.shape
    total = scores[0].copy()
    back = np.zeros((steps, k), int)
    for t in range(1, steps):
        stay = total
        best_other = int(np.argmax(total))
        switch = total[best_other] - penalty
        back[t] = np.where(stay >= switch, np.arange(k), best_other)
        total = np.maximum(stay, switch) + scores[t]
    path = np.zeros(steps, int)
    path[-1] = int(np.argmax(total))
    for t in range(steps - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path
