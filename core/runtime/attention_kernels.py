"""Sliding-window attention for the forward pass, computed in query blocks instead of a full mask.

Gemma 3's local layers (5 of every 6) let query i see key j when j <= i and i - j < window
(``sliding_window`` = 512 keys, the query included). Through plain SDPA, HF passes a full
(q_pos, k_pos) bool mask at long inputs, so every local layer scores all pos^2 pairs: at 4,096
tokens eight times the keys it may see. ``windowed_attention`` splits the queries into blocks of
``window`` positions; block [start, end) scores only keys [start - window + 1, end) under the same
mask (``adapters.causal_mask``), at most 2 x window - 1 keys per query. Softmax is per row over the
keys a row may see, so the result equals the full-mask SDPA up to float rounding
(``tests/test_windowed_attention.py``).

It is registered with transformers' ``AttentionInterface`` as ``WINDOWED`` and picked at load time
(``implementation_for``) for the families whose attention modules pass ``sliding_window`` per layer
(Gemma 3). Its mask function returns no mask for a sliding layer only when the mask would be the
plain sliding window (no padding, no cache offset, no overlay); then the attention function applies
the window itself. Every other case (global layers, padding, decoding with a cache, q_pos != k_pos,
dropout, soft-capping) goes through HF's own ``sdpa_attention_forward`` with the mask HF builds.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

from core.runtime.adapters.base import causal_mask

WINDOWED = "atlas_windowed_sdpa"
FAMILIES = frozenset({"gemma3_text", "gemma3"})     # attention modules that pass sliding_window per layer


def implementation_for(config) -> str:
    """The attention implementation to load ``config`` with: ``WINDOWED`` for a family above with
    at least one sliding layer, else plain ``"sdpa"``."""
    text = getattr(config, "text_config", None) or config
    types = getattr(text, "layer_types", None) or []
    sliding = getattr(text, "sliding_window", None) and "sliding_attention" in types
    return WINDOWED if config.model_type in FAMILIES and sliding else "sdpa"


def _plain_window(kw: dict) -> bool:
    """Whether HF asks for a pure causal sliding-window mask over one unpadded, uncached sequence.
    Overlays, packed sequences and bidirectional masks all turn ``allow_is_causal_skip`` off."""
    pad = kw.get("attention_mask")
    return (kw.get("local_size") is not None and kw.get("allow_is_causal_skip", False)
            and kw.get("q_offset", 0) == 0 and kw.get("kv_offset", 0) == 0
            and isinstance(kw.get("q_length"), int) and kw.get("q_length") == kw.get("kv_length")
            and (pad is None or bool(pad.all())))


def windowed_mask(**kw) -> torch.Tensor | None:
    """HF's SDPA mask, except None for a plain sliding window (``windowed_attention`` applies it)."""
    return None if _plain_window(kw) else sdpa_mask(**kw)


def windowed_attention(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                       attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                       sliding_window: int | None = None, **kwargs) -> tuple[torch.Tensor, None]:
    """query (batch, head, q_pos, d_head), key/value (batch, kv_head, k_pos, d_head) ->
    ((batch, q_pos, head, d_head), None), as HF's attention functions return."""
    n = query.shape[2]
    if attention_mask is not None or not sliding_window:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                      scaling=scaling, sliding_window=sliding_window, **kwargs)
    # No mask on a sliding layer: ``windowed_mask`` found a plain window over pos == k_pos positions.
    if n <= sliding_window:                                  # the window covers every earlier key
        return sdpa_attention_forward(module, query, key, value, None, dropout=dropout, scaling=scaling,
                                      sliding_window=sliding_window, **kwargs)
    if key.shape[2] != n or dropout or kwargs.get("softcap") is not None or not getattr(module, "is_causal", True):
        allowed = causal_mask(n, key.shape[2], window=sliding_window, device=query.device)
        return sdpa_attention_forward(module, query, key, value, allowed[None, None], dropout=dropout,
                                      scaling=scaling, sliding_window=sliding_window, **kwargs)
    group = query.shape[1] // key.shape[1]
    key, value = repeat_kv(key, group), repeat_kv(value, group)        # (batch, head, k_pos, d_head)
    out = query.new_empty(*query.shape[:3], value.shape[-1])           # (batch, head, q_pos, d_head)
    for start in range(0, n, sliding_window):
        end = min(n, start + sliding_window)
        k0 = max(0, start - sliding_window + 1)
        rows = torch.arange(start, end, device=query.device)
        allowed = causal_mask(end, end, rows, sliding_window, query.device)[:, k0:]   # (rows, keys k0..end)
        out[:, :, start:end] = F.scaled_dot_product_attention(
            query[:, :, start:end], key[:, :, k0:end], value[:, :, k0:end], attn_mask=allowed, scale=scaling)
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(WINDOWED, windowed_attention)
AttentionMaskInterface.register(WINDOWED, windowed_mask)
