"""Builds tiny IndicTrans2-shaped models with random weights, laid out as the engine expects them.

The real models need AI4Bharat's own modelling and tokenizer code from the model hub, which cannot
be fetched here. These are standard transformers seq2seq models (M2M100, the architecture
IndicTrans2 follows) with a word-level tokenizer that knows IndicProcessor's language tags, saved
in the folders en-indic, indic-en and indic-indic, so the engine loads them through the same
Auto classes, IndicProcessor pre- and post-processing, batching and generation as the real ones.
Quality is meaningless; the point is the path.
"""

from __future__ import annotations

from pathlib import Path

from tiny_seq2seq import random_m2m100

from cpwhisperx.languages import INDICTRANS2_CODES

CORPUS = [
    "राहुल बाज़ार गया और उसने फल खरीदे ।",
    "यह घर बहुत पुराना है और सर्दी में ठंडा रहता है ।",
    "भाई ने कहा कि हम कल सुबह चलेंगे ।",
    "Rahul went to the market and bought fruit .",
    "This house is very old and stays cold in winter .",
    "Brother said that we will leave tomorrow morning .",
]
DIRECTIONS = ("en-indic", "indic-en", "indic-indic")


def build_tiny_indictrans2(root: Path) -> Path:
    """The model root (TRANSLATION_INDICTRANS2_MODEL) with one tiny model per direction."""
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    tags = list(INDICTRANS2_CODES)
    words = sorted({word for line in CORPUS for word in line.split()} | {"GLS0", "GLS1", "GLS2"})
    vocab = ["<s>", "<pad>", "</s>", "<unk>", *tags, *words]
    for number, direction in enumerate(DIRECTIONS):
        folder = root / direction
        backend = Tokenizer(WordLevel({token: i for i, token in enumerate(vocab)}, unk_token="<unk>"))
        backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                            unk_token="<unk>", additional_special_tokens=tags,
                                            model_input_names=["input_ids", "attention_mask"], model_max_length=256)
        tokenizer.save_pretrained(str(folder))
        model = random_m2m100(len(vocab), seed=number)
        model.save_pretrained(str(folder))
    return root
