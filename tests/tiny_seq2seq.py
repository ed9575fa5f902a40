"""A tiny M2M100 (the architecture of NLLB and IndicTrans2) with random weights, for tests of the
translation engines' real loading and decoding paths."""

from __future__ import annotations

from typing import Any


def random_m2m100(vocab_size: int, seed: int = 0) -> Any:
    """Two heads, one layer each way, 32 wide; ids 0-3 are <s> <pad> </s> <unk> as in NLLB."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    torch.manual_seed(seed)
    config = M2M100Config(vocab_size=vocab_size, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=1024,
                          pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, scale_embedding=True)
    model = M2M100ForConditionalGeneration(config)
    with torch.no_grad():  # larger random weights, so that different inputs give different outputs
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.6)
    return model
