"""Multi-speaker recordings with known turns, built from real readers and synthetic voices.

Each voice is a list of utterances (float32, 16 kHz mono, silence trimmed); `conversation` lets
the voices speak in alternating turns with short pauses and records who speaks when. Sources:
the Hindi news readers of a hindi-dev style folder (each clip a reader), the LibriVox reader and
the CMU card-names reader of Debian's pocketsphinx-testdata, and espeak-ng and flite voices.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cpwhisperx.diarize import Turn
from cpwhisperx.media import SAMPLE_RATE, read_wav, tool_path
from cpwhisperx.samples import POCKETSPHINX_DATA, librivox_clips, sample_clips

REPO = Path(__file__).resolve().parent.parent
TEST_HINDI = REPO / "tests" / "data" / "hindi"
HINDI_DEV = REPO.parent / "shared" / "data" / "hindi-dev"

SENTENCES = (
    "The committee will meet again on Thursday to settle the budget for the coming year.",
    "She had never seen the river so high, and the old bridge was closed before noon.",
    "Nobody in the village remembered who had planted the long row of mango trees.",
    "If the train is late again, we will take the bus and walk the last mile.",
    "He opened the letter slowly, read it twice, and put it back into the drawer.",
    "The market is busiest in the early morning, before the heat of the day sets in.",
    "Please keep the windows closed tonight, the storm is coming from the west.",
    "They argued for an hour about the film, and then went out for dinner together.",
    "My grandmother kept every photograph in a tin box under her bed.",
    "The new road will cut the journey to the coast from six hours to four.",
    "A small crowd gathered outside the station to watch the fireworks over the lake.",
    "We found the keys at last, hidden under a pile of newspapers on the kitchen table.",
)
ESPEAK_VOICES = ("en+m3", "en+f3", "en-us+m7", "en+f5")
FLITE_VOICES = ("slt", "rms", "awb", "kal16")


@dataclass(frozen=True)
class Voice:
    name: str
    utterances: tuple[np.ndarray, ...]

    @property
    def seconds(self) -> float:
        return sum(len(u) for u in self.utterances) / SAMPLE_RATE


@dataclass(frozen=True)
class Conversation:
    audio: np.ndarray          # float32, 16 kHz mono
    turns: list[Turn]          # the reference: who speaks when (labels are the voices' names)

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE

    @property
    def speech_regions(self) -> list[tuple[float, float]]:
        """Each turn padded by 0.2 s, as a voice activity detector would give them."""
        return [(max(0.0, t.start - 0.2), min(self.duration, t.end + 0.2)) for t in self.turns]

    def write_wav(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(SAMPLE_RATE)
            handle.writeframes((np.clip(self.audio, -1, 1) * 32767).astype("<i2").tobytes())
        return path


def conversation(voices: Sequence[Voice], turns: int | None = None, *, pause: float = 0.7, lead: float = 0.5,
                 seed: int = 0) -> Conversation:
    """The voices taking turns: every voice once per round (the order shuffled each round, never the
    same voice twice in a row), each turn the voice's next utterance; `turns` defaults to all of
    every voice's utterances once. Pauses vary ±40 % around `pause`."""
    rng = np.random.default_rng(seed)
    total = turns if turns is not None else sum(len(v.utterances) for v in voices)
    order: list[int] = []
    while len(order) < total:
        round_ = list(rng.permutation(len(voices)))
        if order and len(voices) > 1 and round_[0] == order[-1]:
            round_.append(round_.pop(0))
        order += [int(i) for i in round_]
    order = order[:total]
    used = [0] * len(voices)
    pieces = [np.zeros(int(lead * SAMPLE_RATE), np.float32)]
    position = len(pieces[0])
    reference: list[Turn] = []
    for index in order:
        voice = voices[index]
        utterance = voice.utterances[used[index] % len(voice.utterances)]
        used[index] += 1
        reference.append(Turn(round(position / SAMPLE_RATE, 3), round((position + len(utterance)) / SAMPLE_RATE, 3), voice.name))
        gap = np.zeros(int(pause * rng.uniform(0.6, 1.4) * SAMPLE_RATE), np.float32)
        pieces += [utterance, gap]
        position += len(utterance) + len(gap)
    return Conversation(np.concatenate(pieces), reference)


# --- voices -------------------------------------------------------------------------------------
def trim_silence(audio: np.ndarray, floor_db: float = 35.0) -> np.ndarray:
    """The audio between the first and last 10 ms frame within `floor_db` of the loudest."""
    frames = len(audio) // 160
    if frames == 0:
        return audio
    level = 20 * np.log10(np.sqrt((audio[:frames * 160].reshape(frames, 160) ** 2).mean(axis=1)) + 1e-9)
    loud = np.flatnonzero(level > level.max() - floor_db)
    return audio[loud[0] * 160:(loud[-1] + 1) * 160]


def split_at_pauses(audio: np.ndarray, shortest: float = 2.0, longest: float = 4.5) -> list[np.ndarray]:
    """Pieces of `shortest`–`longest` seconds, each cut at the quietest 100 ms in reach."""
    frames = len(audio) // 160
    level = np.convolve((audio[:frames * 160].reshape(frames, 160) ** 2).mean(axis=1), np.ones(10) / 10, mode="same")
    cuts, position = [0], 0
    while frames - position > longest * 100:
        lo, hi = position + int(shortest * 100), min(frames, position + int(longest * 100))
        position = lo + int(np.argmin(level[lo:hi]))
        cuts.append(position)
    if len(cuts) > 1 and frames - cuts[-1] < shortest * 100 / 2:
        cuts.pop()
    bounds = [*cuts, frames]
    return [trim_silence(audio[a * 160:b * 160]) for a, b in zip(bounds, bounds[1:], strict=False)]


def clip_voice(name: str, clips: Sequence[Path], shortest: float = 2.0, longest: float = 4.5) -> Voice:
    """One reader from recordings of theirs, cut into utterances at pauses."""
    utterances = [piece for clip in clips for piece in split_at_pauses(_normalised(_read(clip)), shortest, longest)]
    return Voice(name, tuple(u for u in utterances if len(u) >= SAMPLE_RATE // 2))


def hindi_readers(folder: Path = TEST_HINDI, count: int = 3, offset: int = 0) -> list[Voice]:
    """`count` Hindi news readers, one per clip of the folder's manifest.tsv (each clip another
    reader), from clip `offset` on, taking at most one clip of a station."""
    with (folder / "manifest.tsv").open(encoding="utf-8") as handle:
        files = [row["file"] for row in csv.DictReader(handle, delimiter="\t")]
    chosen, stations = [], set()
    for name in files[offset:]:
        station = name.split("_")[1]
        if station not in stations:
            stations.add(station)
            chosen.append(name)
    if len(chosen) < count:
        raise ValueError(f"{folder} has clips of only {len(chosen)} stations from clip {offset} on")
    return [clip_voice(f"hindi-{name.split('_')[1]}", [folder / name]) for name in chosen[:count]]


def english_readers(data_dir: Path = POCKETSPHINX_DATA) -> list[Voice]:
    """The LibriVox reader of *Sense and Sensibility* and the CMU reader of card names."""
    librivox = [clip.path for clip in librivox_clips(data_dir)]
    cards = [clip.path for clip in sample_clips(data_dir) if clip.path.parent.name == "cards"]
    return [clip_voice("librivox-reader", librivox), Voice("cmu-cards-reader", tuple(trim_silence(_normalised(_read(p))) for p in cards))]


def synthetic_voices(engine: str = "espeak-ng", voices: Sequence[str] | None = None, sentences: Sequence[str] = SENTENCES,
                     per_voice: int = 4) -> list[Voice]:
    """Voices of a speech synthesiser (espeak-ng or flite), each saying `per_voice` of the sentences
    (every voice different ones)."""
    names = tuple(voices or (ESPEAK_VOICES if engine == "espeak-ng" else FLITE_VOICES))
    program = shutil.which(engine)
    if program is None:
        raise FileNotFoundError(f"{engine} is not installed")
    built = []
    with tempfile.TemporaryDirectory() as tmp:
        for v, name in enumerate(names):
            utterances = []
            for s in range(per_voice):
                text = sentences[(v * per_voice + s) % len(sentences)]
                raw, wav = Path(tmp) / f"{v}-{s}.raw.wav", Path(tmp) / f"{v}-{s}.wav"
                if engine == "espeak-ng":
                    subprocess.run([program, "-v", name, "-s", "165", "-w", str(raw), text], check=True, capture_output=True)
                else:
                    subprocess.run([program, "-voice", name, "-t", text, "-o", str(raw)], check=True, capture_output=True)
                subprocess.run([tool_path("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(raw), "-ar", str(SAMPLE_RATE), "-ac", "1",
                                "-c:a", "pcm_s16le", str(wav)], check=True)
                utterances.append(trim_silence(_normalised(read_wav(wav))))
            built.append(Voice(f"{engine}-{name}", tuple(utterances)))
    return built


def _read(path: Path) -> np.ndarray:
    if path.suffix == ".raw":
        return np.frombuffer(path.read_bytes(), "<i2").astype(np.float32) / 32768.0
    return read_wav(path)


def _normalised(audio: np.ndarray, peak: float = 0.7) -> np.ndarray:
    """Readers recorded at very different levels, brought to one peak (levels alone must not tell them apart)."""
    top = float(np.abs(audio).max()) if len(audio) else 0.0
    return (audio * (peak / top)).astype(np.float32) if top > 0 else audio
