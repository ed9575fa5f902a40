"""The streaming guides' limits per language and audience: characters per line and reading speed.

A value given in the configuration wins over this table (see `rules_from`):
SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE and SUBTITLE_MAX_CPS_BY_LANGUAGE for one language, then
SUBTITLE_MAX_LINE_LENGTH (languages without a line limit of their own here) and a non-zero
SUBTITLE_MAX_CPS (every language). Characters are grapheme clusters; the CJK guides count a
half-width letter or space as half a character, which this count takes as one (stricter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from cpwhisperx.layout import LayoutRules

if TYPE_CHECKING:
    from cpwhisperx.config import Settings

T = TypeVar("T")

Audience = Literal["adult", "children", "sdh"]
GENERAL_LINE_LENGTH = 42  # Netflix General Requirements and English Template: 42 characters per line


@dataclass(frozen=True)
class LanguageRules:
    name: str
    line_length: int
    adult_cps: float
    children_cps: float
    sdh_cps: float
    source: str

    def cps(self, audience: Audience) -> float:
        return {"adult": self.adult_cps, "children": self.children_cps, "sdh": self.sdh_cps}[audience]


# Languages not listed: the Netflix English Template (adult 17 cps, children 13 cps, 42 characters).
DEFAULT = LanguageRules("other languages", GENERAL_LINE_LENGTH, 17.0, 13.0, 17.0, "Netflix English Template Timed Text Style Guide")

TABLE: dict[str, LanguageRules] = {
    # Netflix English (USA) allows 20 cps for adults and 17 for children (SDH the same); the English
    # Template's 17 and 13 are this table's stricter default.
    "en": LanguageRules("English", GENERAL_LINE_LENGTH, 17.0, 13.0, 17.0, "Netflix English Template; English (USA) guide allows 20/17"),
    # Netflix Hindi Timed Text Style Guide: 42 characters, 22 cps for adults, 17 for children.
    "hi": LanguageRules("Hindi", GENERAL_LINE_LENGTH, 22.0, 17.0, 22.0, "Netflix Hindi Timed Text Style Guide"),
    # Netflix Simplified and Traditional Chinese guides: 16 characters per line, 9 cps adults, 7 children.
    "zh": LanguageRules("Chinese", 16, 9.0, 7.0, 9.0, "Netflix Chinese (Simplified, Traditional) Timed Text Style Guides"),
    "yue": LanguageRules("Cantonese", 16, 9.0, 7.0, 9.0, "Netflix Traditional Chinese (Hong Kong) Timed Text Style Guide"),
    # Netflix Japanese: 13 full-width characters for horizontal subtitles and 4 cps; 16 per line is
    # the common vendor limit, taken here (SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE=ja:13 for Netflix).
    "ja": LanguageRules("Japanese", 16, 4.0, 4.0, 4.0, "Netflix Japanese Timed Text Style Guide (13 per line there)"),
    # Netflix Korean Timed Text Style Guide: 16 characters per line, 12 cps adults, 9 children.
    "ko": LanguageRules("Korean", 16, 12.0, 9.0, 12.0, "Netflix Korean Timed Text Style Guide"),
    # Netflix Thai Timed Text Style Guide: 35 characters per line; reading speed as the default.
    "th": LanguageRules("Thai", 35, 17.0, 13.0, 17.0, "Netflix Thai Timed Text Style Guide (line length)"),
}


def language_rules(language: str) -> LanguageRules:
    return TABLE.get(language, DEFAULT)


def own_line_lengths() -> dict[str, int]:
    """The languages whose line limit is not the general one: SUBTITLE_MAX_LINE_LENGTH does not apply to them."""
    return {code: rules.line_length for code, rules in TABLE.items() if rules.line_length != GENERAL_LINE_LENGTH}


def rules_table_markdown() -> str:
    """The table as the README shows it."""
    rows = ["| language | characters per line | reading speed, adults (cps) | children (cps) | SDH (cps) | source |",
            "|---|---|---|---|---|---|"]
    for code, rules in [*TABLE.items(), ("*", DEFAULT)]:
        rows.append(f"| {rules.name} (`{code}`) | {rules.line_length} | {rules.adult_cps:g} | {rules.children_cps:g} | "
                    f"{rules.sdh_cps:g} | {rules.source} |")
    return "\n".join(rows) + "\n"


def rules_from(s: Settings, language: str, audience: Audience | None = None) -> LayoutRules:
    """The layout limits for subtitles in `language` (a regional or script variant as its language)
    for SUBTITLE_AUDIENCE, or `audience`: the guides' limits (the table above) unless
    the configuration sets them: per language, then for every language."""
    base = language.split("-")[0].lower()

    def own(table: Mapping[str, T]) -> T | None:
        return table.get(language, table.get(base))

    line_length = own(s.SUBTITLE_MAX_LINE_LENGTH_BY_LANGUAGE) or s.SUBTITLE_MAX_LINE_LENGTH
    max_cps = own(s.SUBTITLE_MAX_CPS_BY_LANGUAGE) or s.SUBTITLE_MAX_CPS or language_rules(base).cps(audience or s.SUBTITLE_AUDIENCE)
    return LayoutRules(max_line_length=line_length, max_lines=s.SUBTITLE_MAX_LINES,
                       min_duration=s.SUBTITLE_MIN_DURATION, max_duration=s.SUBTITLE_MAX_DURATION, max_cps=max_cps,
                       min_gap=s.SUBTITLE_MIN_GAP, pause_split=s.SUBTITLE_PAUSE_SPLIT, max_lead=s.SUBTITLE_MAX_LEAD,
                       max_delay=s.SUBTITLE_MAX_DELAY)
