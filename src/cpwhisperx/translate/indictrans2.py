"""AI4Bharat IndicTrans2 through transformers, with IndicTransToolkit's pre- and post-processing.

IndicTrans2 ships one model per direction; TRANSLATION_INDICTRANS2_MODEL names a folder holding
them as subfolders `en-indic`, `indic-en` and `indic-indic`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cpwhisperx.config import Settings
from cpwhisperx.errors import InvalidInput
from cpwhisperx.languages import ENGLISH_FLORES, get_language, indictrans2_code


class IndicTrans2Engine:
    name = "indictrans2"

    def __init__(self, root: Path, device: str, beam_size: int, batch_size: int) -> None:
        self.root = root
        self.device = device
        self.beam_size = beam_size
        self.batch_size = batch_size
        self._loaded: dict[str, tuple[Any, Any, Any]] = {}
        self.model = root.name
        self.version = "unknown"

    @staticmethod
    def _direction(source_code: str, target_code: str) -> str:
        if source_code == ENGLISH_FLORES:
            return "en-indic"
        return "indic-en" if target_code == ENGLISH_FLORES else "indic-indic"

    @staticmethod
    def language_code(language: str) -> str:
        code = indictrans2_code(language)
        if code is None:
            raise InvalidInput(f"IndicTrans2 does not translate {get_language(language).name} ('{language}')",
                               hint="route the pair to another engine with TRANSLATION_ROUTES")
        return code

    def _load(self, direction: str) -> tuple[Any, Any, Any]:
        if direction not in self._loaded:
            import transformers
            from IndicTransToolkit.processor import IndicProcessor

            folder = self.root / direction
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder), trust_remote_code=True)
            model = transformers.AutoModelForSeq2SeqLM.from_pretrained(str(folder), trust_remote_code=True).to(self.device)
            model.eval()
            self._loaded[direction] = (tokenizer, model, IndicProcessor(inference=True))
            self.model = f"{self.root.name}/{direction}"
            self.version = f"transformers {transformers.__version__}"
        return self._loaded[direction]

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        import torch

        source_code, target_code = self.language_code(source), self.language_code(target)
        tokenizer, model, processor = self._load(self._direction(source_code, target_code))
        results: list[str] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = processor.preprocess_batch(texts[start:start + self.batch_size], src_lang=source_code, tgt_lang=target_code)
            inputs = tokenizer(chunk, truncation=True, padding="longest", return_tensors="pt").to(self.device)
            with torch.inference_mode():
                generated = model.generate(**inputs, num_beams=self.beam_size, max_length=256, use_cache=True)
            decoded = tokenizer.batch_decode(generated, skip_special_tokens=True, clean_up_tokenization_spaces=True)
            results += processor.postprocess_batch(decoded, lang=target_code)
        return results


def create(settings: Settings) -> IndicTrans2Engine:
    from cpwhisperx.translate import translation_device

    return IndicTrans2Engine(Path(settings.TRANSLATION_INDICTRANS2_MODEL).expanduser(), translation_device(settings), settings.TRANSLATION_BEAM_SIZE, settings.TRANSLATION_BATCH_SIZE)
