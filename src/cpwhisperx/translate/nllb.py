"""NLLB-200 through CTranslate2, tokenised with the model's own SentencePiece model.

The converted model folder holds the CTranslate2 model and `sentencepiece.bpe.model`
(`ct2-transformers-converter --model facebook/nllb-200-distilled-600M --copy_files sentencepiece.bpe.model`).
Source tokens are `[source code] pieces… </s>`; the target language code is forced as the first
target token and removed from the result.
"""

from __future__ import annotations

from pathlib import Path

from cpwhisperx.config import Settings
from cpwhisperx.languages import FLORES

SPM_FILE = "sentencepiece.bpe.model"


class NllbEngine:
    name = "nllb"

    def __init__(self, model_dir: Path, device: str = "cpu", beam_size: int = 4, batch_size: int = 16) -> None:
        import ctranslate2
        import sentencepiece

        self.translator = ctranslate2.Translator(str(model_dir), device=device, compute_type="default")
        self.pieces = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / SPM_FILE))
        self.beam_size = beam_size
        self.batch_size = batch_size
        self.model = model_dir.name
        self.version = f"ctranslate2 {ctranslate2.__version__}"

    def tokenize(self, text: str, source: str) -> list[str]:
        return [FLORES[source], *self.pieces.encode(text, out_type=str), "</s>"]

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        target_code = FLORES[target]
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
