"""Speech cut into blocks at pauses chosen by the audio itself, each block decoded on its own.

A pause ends a block when it is longer than every other pause within a radius of it. The rule
looks only at the speech around a pause, so a film and its re-cut (scenes removed, inserted or
moved, the audio re-encoded) cut their unchanged stretches at the same pauses, and since each
block is decoded with no context from the blocks before it, its text depends on its own audio
alone: a block's result can be reused wherever the same audio occurs again.
"""

from __future__ import annotations

from dataclasses import dataclass

# Neighbouring block ends lie at least this far apart (media seconds), so that Whisper's 30 s
# windows stay full and each block carries context of its own; longer blocks reuse less of a
# re-cut.
BLOCK_RADIUS_SECONDS = 30.0
# A block with more speech than this is cut again with half the radius, down to MIN_RADIUS (then
# it is decoded in chunks, with context, as long speech always is).
BLOCK_MAX_SPEECH_SECONDS = 120.0
MIN_RADIUS_SECONDS = 7.5


@dataclass(frozen=True)
class Block:
    regions: tuple[tuple[float, float], ...]

    @property
    def start(self) -> float:
        return self.regions[0][0]

    @property
    def end(self) -> float:
        return self.regions[-1][1]

    @property
    def speech_seconds(self) -> float:
        return sum(end - start for start, end in self.regions)

    def relative_regions(self) -> list[tuple[float, float]]:
        return [(round(start - self.start, 3), round(end - self.start, 3)) for start, end in self.regions]


def plan_blocks(regions: list[tuple[float, float]], radius: float = BLOCK_RADIUS_SECONDS,
                max_speech: float = BLOCK_MAX_SPEECH_SECONDS) -> list[Block]:
    """The speech regions, in order, grouped into blocks."""
    blocks = []
    for block in _split(regions, radius):
        if block.speech_seconds > max_speech and radius / 2 >= MIN_RADIUS_SECONDS and len(block.regions) > 1:
            blocks.extend(plan_blocks(list(block.regions), radius / 2, max_speech))
        else:
            blocks.append(block)
    return blocks


def _split(regions: list[tuple[float, float]], radius: float) -> list[Block]:
    if not regions:
        return []
    # pauses in whole milliseconds, so that equal pauses compare equal
    pauses = [round((regions[i + 1][0] - regions[i][1]) * 1000) for i in range(len(regions) - 1)]
    middles = [(regions[i][1] + regions[i + 1][0]) / 2 for i in range(len(pauses))]
    blocks, first = [], 0
    for i, pause in enumerate(pauses):
        if _longest_around(i, pause, pauses, middles, radius):
            blocks.append(Block(tuple(regions[first:i + 1])))
            first = i + 1
    blocks.append(Block(tuple(regions[first:])))
    return blocks


def _longest_around(i: int, pause: int, pauses: list[int], middles: list[float], radius: float) -> bool:
    """Longer than every pause near it; of equally long ones, the first."""
    j = i - 1
    while j >= 0 and middles[i] - middles[j] <= radius:
        if pauses[j] >= pause:
            return False
        j -= 1
    j = i + 1
    while j < len(pauses) and middles[j] - middles[i] <= radius:
        if pauses[j] > pause:
            return False
        j += 1
    return True
