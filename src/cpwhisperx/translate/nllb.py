"""NLLB-200 through CTranslate2, tokenised with the model's own SentencePiece model.

The converted model folder holds the CTranslate2 model and `sentencepiece.bpe.model`
(`ct2-transformers-converter --model facebook/nllb-200-distilled-600M --copy_files sentencepiece.bpe.model`).
Source tokens are `[source code] pieces… </s>`; the target language code is forced as the first
target token and removed from the result. The language codes are NLLB's FLORES-200 codes that the
model's own vocabulary holds.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from cpwhisperx.config import Settings
from cpwhisperx.errors import ResourceMissing
from cpwhisperx.languages import get_language, nllb_code, nllb_codes

SPM_FILE = "sentencepiece.bpe.model"


def model_language_codes(model_dir: Path) -> tuple[str, ...]:
    """NLLB's language codes that the converted model's vocabulary holds (all of them when the
    folder has no vocabulary file to read)."""
    files = [model_dir / name for name in ("shared_vocabulary.json", "shared_vocabulary.txt", "target_vocabulary.json")]
    found = next((f for f in files if f.is_file()), None)
    return _vocabulary_codes(str(found), found.stat().st_mtime_ns) if found else nllb_codes()


@lru_cache(maxsize=8)
def _vocabulary_codes(path: str, mtime_ns: int) -> tuple[str, ...]:
    text = Path(path).read_text(encoding="utf-8")
    tokens = set(json.loads(text) if path.endswith(".json") else text.splitlines())
    return tuple(code for code in nllb_codes() if code in tokens)


def model_code(model_dir: Path, language: str) -> str | None:
    """NLLB's code for the language when the model at `model_dir` has it, else None (never a
    neighbour the model happens to have instead)."""
    code = nllb_code(language)
    return code if code in model_language_codes(model_dir) else None


class NllbEngine:
    name = "nllb"

    def __init__(self, model_dir: Path, device: str = "cpu", beam_size: int = 4, batch_size: int = 16) -> None:
        import ctranslate2
        import sentencepiece

        self.translator = ctranslate2.Translator(str(model_dir), device=device, compute_type="default")
        self.pieces = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / SPM_FILE))
        self.beam_size = beam_size
        self.batch_size = batch_size
        self.model_dir = model_dir
        self.model = model_dir.name
        self.version = f"ctranslate2 {ctranslate2.__version__}"

    def language_token(self, language: str) -> str:
        token = model_code(self.model_dir, language)
        if token is None:
            name = get_language(language).name
            raise ResourceMissing(f"the NLLB model {self.model_dir} has no language token for {name} ('{language}')",
                                  hint="use an NLLB-200 model (its 202 languages), or route the pair to another engine with TRANSLATION_ROUTES")
        return token

    def tokenize(self, text: str, source: str) -> list[str]:
        return [self.language_token(source), *self.pieces.encode(text, out_type=str), "</s>"]

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        target_code = self.language_token(target)
        batch = [self.tokenize(text, source) for text in texts]
        # A translation seldom needs more than twice the source length; the bound stops a runaway decode.
        longest = max((len(tokens) for tokens in batch), default=1)
        results = self.translator.translate_batch(batch, target_prefix=[[target_code]] * len(batch), beam_size=self.beam_size,
                                                  max_batch_size=self.batch_size, max_decoding_length=min(256, 2 * longest + 16))
        translations = []
        for result in results:
            tokens = [t for t in result.hypotheses[0] if t not in (target_code, "</s>", "<s>", "<pad>")]
            translations.append(self.pieces.decode(tokens).strip())
        return translations


def create(settings: Settings) -> NllbEngine:
    from cpwhisperx.translate import translation_device

    return NllbEngine(Path(settings.TRANSLATION_NLLB_MODEL).expanduser(), translation_device(settings), settings.TRANSLATION_BEAM_SIZE, settings.TRANSLATION_BATCH_SIZE)
