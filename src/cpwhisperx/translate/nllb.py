"""NLLB-200 through CTranslate2: FLORES language codes, batch translation, target-language prefix."""

from __future__ import annotations

from pathlib import Path

from cpwhisperx.config import Settings
from cpwhisperx.languages import FLORES


class NllbEngine:
    name = "nllb"

    def __init__(self, model_dir: Path, device: str, beam_size: int, batch_size: int) -> None:
        import ctranslate2
        import transformers

        self.translator = ctranslate2.Translator(str(model_dir), device=device, compute_type="default")
        # The tokenizer files sit beside the converted model (ct2-transformers-converter --copy_files).
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
        self.beam_size = beam_size
        self.batch_size = batch_size
        self.model = model_dir.name
        self.version = f"ctranslate2 {ctranslate2.__version__}"

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        source_code, target_code = FLORES[source], FLORES[target]
        self.tokenizer.src_lang = source_code
        batch = [self.tokenizer.convert_ids_to_tokens(self.tokenizer.encode(text)) for text in texts]
        results = self.translator.translate_batch(batch, target_prefix=[[target_code]] * len(batch), beam_size=self.beam_size,
                                                  max_batch_size=self.batch_size)
        translations = []
        for result in results:
            tokens = result.hypotheses[0]
            if tokens and tokens[0] == target_code:
                tokens = tokens[1:]
            ids = self.tokenizer.convert_tokens_to_ids(tokens)
            translations.append(self.tokenizer.decode(ids, skip_special_tokens=True).strip())
        return translations


def create(settings: Settings) -> NllbEngine:
    from cpwhisperx.hardware import cuda_device_count

    device = settings.TRANSLATION_DEVICE
    if device == "auto":
        device = "cuda" if cuda_device_count() > 0 else "cpu"
    return NllbEngine(Path(settings.TRANSLATION_NLLB_MODEL).expanduser(), device, settings.TRANSLATION_BEAM_SIZE,
                      settings.TRANSLATION_BATCH_SIZE)
