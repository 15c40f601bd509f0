"""Attention weights recomputed on demand from a RunResult's hidden states.

The forward pass in ``core.models.run`` uses SDPA, which returns no weights. Here we take the
hidden state entering layer ``l`` and rerun only that layer's query/key projections (with its
norm and RoPE where the architecture has them), for one head, so a 4096-token input costs one
(q_pos, k_pos) matrix at a time. ``tests/test_attention.py`` checks this equals eager attention.

Follows the annotated transformer's ``attention(q, k, v, mask)``: softmax(q k^T / sqrt(d_head) + mask).
"""
from __future__ import annotations

import torch

from core import models


def subsequent_mask(size: int, device=None) -> torch.Tensor:
    """Causal mask (q_pos, k_pos): True where query i may attend to key j, i.e. j <= i."""
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()


def scores_to_weights(scores: torch.Tensor, allowed: torch.Tensor | None) -> torch.Tensor:
    """softmax over k_pos after setting disallowed scores to -inf. (..., q_pos, k_pos)."""
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores.float(), dim=-1)


def head_shape(config) -> dict:
    """n_heads, n_kv_heads, d_head and the query-head -> KV-head group size for GQA/MQA."""
    n_heads = config.num_attention_heads
    n_kv = getattr(config, "num_key_value_heads", None) or n_heads
    d_head = getattr(config, "head_dim", None) or config.hidden_size // n_heads
    return {"n_heads": n_heads, "n_kv_heads": n_kv, "d_head": d_head, "group": n_heads // n_kv}


def kv_head_of(config, head: int) -> int:
    """Which KV head query head ``head`` reads under GQA (consecutive groups, as in HF Llama)."""
    return head // head_shape(config)["group"]


@torch.inference_mode()
def head_qk(result: models.RunResult, layer: int, head: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Query and key vectors of one head at one layer: (q_pos, d_head) each, plus the scale."""
    lm = models.load(result.model_name)
    cfg = lm.config
    shp = head_shape(cfg)
    if not 0 <= layer < result.n_layers:
        raise IndexError(f"layer {layer} out of range 0..{result.n_layers - 1}")
    if not 0 <= head < shp["n_heads"]:
        raise IndexError(f"head {head} out of range 0..{shp['n_heads'] - 1}")
    h = result.hidden_states[layer]                          # (q_pos, d_model)
    base = models.base_model(lm)
    mtype = cfg.model_type
    d = shp["d_head"]
    if hasattr(base, "layers") and hasattr(base.layers[layer], "self_attn"):   # Llama family
        block = base.layers[layer]
        attn = block.self_attn
        x = block.input_layernorm(h)[None]                   # (batch=1, q_pos, d_model)
        q = attn.q_proj(x).view(1, -1, shp["n_heads"], d).transpose(1, 2)    # (1, head, q_pos, d_head)
        k = attn.k_proj(x).view(1, -1, shp["n_kv_heads"], d).transpose(1, 2)
        if hasattr(attn, "q_norm"):                          # Qwen3-style per-head norms
            q, k = attn.q_norm(q), attn.k_norm(k)
        pos = torch.arange(h.shape[0], device=h.device)[None]
        cos, sin = base.rotary_emb(x, pos)
        q, k = _apply_rope(q, k, cos, sin)
        scale = getattr(attn, "scaling", d ** -0.5)
        return q[0, head], k[0, kv_head_of(cfg, head)], scale
    if mtype == "bert" or hasattr(base, "encoder"):         # BERT family (post-LN: h feeds attention)
        sa = base.encoder.layer[layer].attention.self
        q = sa.query(h).view(-1, shp["n_heads"], d)[:, head]
        k = sa.key(h).view(-1, shp["n_heads"], d)[:, head]
        return q, k, d ** -0.5
    if hasattr(base, "h"):                                   # GPT-2 family
        block = base.h[layer]
        qkv = block.attn.c_attn(block.ln_1(h))               # (q_pos, 3 * d_model)
        q, k, _ = qkv.split(cfg.hidden_size, dim=-1)
        sl = slice(head * d, (head + 1) * d)
        return q[:, sl], k[:, sl], d ** -0.5
    raise NotImplementedError(f"attention recomputation does not know architecture {mtype!r}")


def _apply_rope(q, k, cos, sin):
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb
    return apply_rotary_pos_emb(q, k, cos, sin)


@torch.inference_mode()
def head_scores(result: models.RunResult, layer: int, head: int) -> torch.Tensor:
    """Raw scaled scores q k^T * scale, before any mask: (q_pos, k_pos)."""
    q, k, scale = head_qk(result, layer, head)
    return (q @ k.T) * scale


def mask_for(result: models.RunResult) -> torch.Tensor | None:
    """The mask the model itself applies: causal for decoders, none for one unpadded sequence."""
    return subsequent_mask(result.n_tokens, result.hidden_states[0].device) if result.causal else None


@torch.inference_mode()
def head_weights(result: models.RunResult, layer: int, head: int) -> torch.Tensor:
    """Attention probabilities of one (layer, head): (q_pos, k_pos), rows sum to 1."""
    return scores_to_weights(head_scores(result, layer, head), mask_for(result))
