"""Builds a tiny NLLB-shaped model with random weights, converted to CTranslate2 like the real one.

The vocabulary follows NLLB's layout: <s> <pad> </s> <unk>, the SentencePiece pieces, then NLLB's
202 language codes. Quality is meaningless; the point is the real loading and translation path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiny_seq2seq import random_m2m100

from cpwhisperx.languages import nllb_codes

CORPUS = [
    "the old man told his young son that the house was very cold",
    "good night and good morning to you all my friends",
    "rahul and anjali went to the market with their father",
    "नमस्ते दुनिया यह एक छोटा परीक्षण है और घर बहुत ठंडा था",
    "el hombre viejo dijo a su hijo que la casa estaba fría",
]


def build_tiny_nllb(folder: Path) -> Path:
    """Train the SentencePiece model, build the transformers model, convert it; the converted folder."""
    import ctranslate2
    import sentencepiece
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(CORPUS * 10), encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(folder / "sentencepiece.bpe"), vocab_size=150,
                                             model_type="bpe", character_coverage=1.0, bos_id=0, pad_id=1, eos_id=2, unk_id=3,
                                             minloglevel=2)
    pieces = sentencepiece.SentencePieceProcessor(model_file=str(folder / "sentencepiece.bpe.model"))
    codes = list(nllb_codes())
    vocab = ["<s>", "<pad>", "</s>", "<unk>"] + [pieces.id_to_piece(i) for i in range(4, pieces.get_piece_size())] + codes + ["<mask>"]
    hf = folder / "hf"
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel({t: i for i, t in enumerate(vocab)}, unk_token="<unk>")),
                                        bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
                                        additional_special_tokens=codes)
    tokenizer.save_pretrained(str(hf))
    model = random_m2m100(len(vocab))
    _never_write_language_codes(model, [vocab.index(code) for code in codes])
    model.save_pretrained(str(hf))
    (hf / "sentencepiece.bpe.model").write_bytes((folder / "sentencepiece.bpe.model").read_bytes())
    converted = folder / "nllb-tiny-ct2"
    ctranslate2.converters.TransformersConverter(str(hf), copy_files=["sentencepiece.bpe.model"]).convert(str(converted), force=True)
    return converted


def _never_write_language_codes(model: Any, ids: list[int]) -> None:
    """A trained NLLB writes a language code only where it is forced; with random weights the 202
    codes would crowd the output. Small embeddings (shared with the output layer) keep them out."""
    import torch

    with torch.no_grad():
        model.get_input_embeddings().weight[ids] *= 0.05
