"""One adapter per architecture family; ``for_model`` picks it from the config's ``model_type``.

| family  | model_type values                      | file            |
|---------|----------------------------------------|-----------------|
| llama   | llama, mistral, qwen2, qwen3, smollm3  | rope_decoder.py |
| gemma3  | gemma3_text, gemma3                    | rope_decoder.py |
| bert    | bert                                   | encoder.py      |
| gpt2    | gpt2                                   | gpt2.py         |
| vit     | dinov2                                 | vit.py          |
| whisper | whisper                                | whisper.py      |

A model of another family still runs (tokens, hidden states, next token); ``for_model`` then
raises ``UnsupportedArchitecture`` and the attention views say so.
"""
from __future__ import annotations

import functools

from core.runtime.adapters.base import (BIDIRECTIONAL, GLOBAL, LOCAL, Adapter, Architecture, AttentionOut, MlpParts,  # noqa: F401
                                        BlockOut, HeadLayout, Part, Stack, UnsupportedArchitecture, causal_mask,
                                        layout_of)
from core.runtime.adapters.encoder import BertAdapter
from core.runtime.adapters.gpt2 import GPT2Adapter
from core.runtime.adapters.rope_decoder import Gemma3Adapter, LlamaAdapter
from core.runtime.adapters.vit import ViTAdapter
from core.runtime.adapters.whisper import WhisperAdapter

FAMILIES: dict[str, type[Adapter]] = {
    "llama": LlamaAdapter, "mistral": LlamaAdapter, "qwen2": LlamaAdapter, "qwen3": LlamaAdapter,
    "smollm3": LlamaAdapter, "gemma3_text": Gemma3Adapter, "gemma3": Gemma3Adapter,
    "bert": BertAdapter, "gpt2": GPT2Adapter,
    "dinov2": ViTAdapter, "whisper": WhisperAdapter,
}


def supported(model_type: str) -> bool:
    return model_type in FAMILIES


def for_model(model) -> Adapter:
    """The adapter of a loaded HF model (the bare stack or one with an LM head)."""
    return _cached(model)


@functools.lru_cache(maxsize=16)
def _cached(model) -> Adapter:
    mt = model.config.model_type
    if mt not in FAMILIES:
        raise UnsupportedArchitecture(
            f"Attention views do not support the {mt!r} architecture yet (supported: "
            f"{', '.join(sorted(set(FAMILIES)))}). Tokens, hidden states and the next token still work.")
    return FAMILIES[mt](model, model.config)
