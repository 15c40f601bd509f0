"""Attention weights recomputed on demand from a RunResult's hidden states.

The forward pass in ``core.models.run`` uses SDPA, which returns no weights. Here we take the
hidden state entering layer ``l`` and rerun only that layer's query/key projections (with its
norm and RoPE where the architecture has them), for one head, so a 4096-token input costs one
(q_pos, k_pos) matrix at a time. ``tests/test_attention.py`` checks this equals eager attention.

Follows the annotated transformer's ``attention(q, k, v, mask)``: softmax(q k^T / sqrt(d_head) + mask).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core import models
from core.errors import InputError


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


def _head_proj(linear: torch.nn.Linear, x: torch.Tensor, heads: torch.Tensor, d: int) -> torch.Tensor:
    """Only the rows of a q/k projection that belong to ``heads``: (..., pos, d_model) -> (head, pos, d_head)."""
    w = linear.weight.view(-1, d, linear.weight.shape[-1])[heads].reshape(-1, linear.weight.shape[-1])
    b = None if linear.bias is None else linear.bias.view(-1, d)[heads].reshape(-1)
    y = torch.nn.functional.linear(x, w, b)                  # (pos, len(heads) * d_head)
    return y.view(y.shape[0], len(heads), d).transpose(0, 1)


@torch.inference_mode()
def layer_qk(result: models.RunResult, layer: int, q_rows: torch.Tensor | None = None,
             heads: list[int] | None = None) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Queries (head, q_pos, d_head) and keys (head, k_pos, d_head) of one layer, plus the scale.

    Keys are matched to query heads under GQA (``kv_head_of``). ``heads`` picks query heads (all by
    default; only their projection rows are computed); ``q_rows`` restricts the queries to some
    positions (the statistics sample rows at long inputs); keys always cover every position.
    """
    lm = models.load(result.model_name)
    cfg = lm.config
    shp = head_shape(cfg)
    if not 0 <= layer < result.n_layers:
        raise IndexError(f"layer {layer} out of range 0..{result.n_layers - 1}")
    heads = list(range(shp["n_heads"])) if heads is None else list(heads)
    if any(not 0 <= h < shp["n_heads"] for h in heads):
        raise IndexError(f"head out of range 0..{shp['n_heads'] - 1}")
    h = result.hidden_states[layer]                          # (k_pos, d_model)
    rows = torch.arange(h.shape[0], device=h.device) if q_rows is None else q_rows.to(h.device)
    qh = torch.tensor(heads, device=h.device)
    kvh = torch.div(qh, shp["group"], rounding_mode="floor")  # GQA: query head -> KV head
    base = models.base_model(lm)
    d = shp["d_head"]
    if hasattr(base, "layers") and hasattr(base.layers[layer], "self_attn"):   # Llama family
        block = base.layers[layer]
        attn = block.self_attn
        x = block.input_layernorm(h)                         # (k_pos, d_model)
        q = _head_proj(attn.q_proj, x[rows], qh, d)[None]    # (1, head, q_pos, d_head)
        k = _head_proj(attn.k_proj, x, kvh.unique(), d)[None]  # (1, kv_head, k_pos, d_head)
        if hasattr(attn, "q_norm"):                          # Qwen3-style per-head norms
            q, k = attn.q_norm(q), attn.k_norm(k)
        pos = torch.arange(h.shape[0], device=h.device)[None]
        cos, sin = base.rotary_emb(x[None], pos)             # (1, k_pos, d_head)
        q = _apply_rope(q, q, cos[:, rows], sin[:, rows])[0][0]
        k = _apply_rope(k, k, cos, sin)[0][0]
        k = k[torch.searchsorted(kvh.unique(), kvh)]         # (head, k_pos, d_head)
        return q, k, getattr(attn, "scaling", d ** -0.5)
    if cfg.model_type == "bert" or hasattr(base, "encoder"):  # BERT family (post-LN: h feeds attention)
        sa = base.encoder.layer[layer].attention.self
        return _head_proj(sa.query, h[rows], qh, d), _head_proj(sa.key, h, qh, d), d ** -0.5
    if hasattr(base, "h"):                                   # GPT-2 family (Conv1D: full qkv)
        block = base.h[layer]
        qkv = block.attn.c_attn(block.ln_1(h))               # (k_pos, 3 * d_model)
        q, k, _ = qkv.split(cfg.hidden_size, dim=-1)
        q = q[rows].view(-1, shp["n_heads"], d).transpose(0, 1)
        return q[qh], k.view(-1, shp["n_heads"], d).transpose(0, 1)[qh], d ** -0.5
    raise NotImplementedError(f"attention recomputation does not know architecture {cfg.model_type!r}")


@torch.inference_mode()
def head_qk(result: models.RunResult, layer: int, head: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Query and key vectors of one head at one layer: (q_pos, d_head) each, plus the scale."""
    q, k, scale = layer_qk(result, layer, heads=[head])
    return q[0], k[0], scale


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
def head_weights(result: models.RunResult, layer: int, head: int, *, block: int = 512) -> torch.Tensor:
    """Attention probabilities of one (layer, head): (q_pos, k_pos), rows sum to 1.

    Same maths as ``scores_to_weights(head_scores(...), mask_for(...))``. For a causal model the rows
    are done in blocks of ``block`` queries that only score the keys they may see (k_pos <= q_pos),
    which halves the work at long inputs; masked weights are exactly 0 either way.
    """
    q, k, scale = head_qk(result, layer, head)              # (q_pos, d_head) each
    n = q.shape[0]
    if not result.causal or n <= block:
        return scores_to_weights((q @ k.T) * scale, mask_for(result))
    out = torch.zeros(n, n, device=q.device)                # (q_pos, k_pos)
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        s = (q[r0:r1] @ k[:r1].T) * scale                    # (rows, keys up to r1)
        s[:, r0:].masked_fill_(~subsequent_mask(r1 - r0, q.device), float("-inf"))
        out[r0:r1, :r1] = torch.softmax(s, dim=-1)
    return out


# --------------------------------------------------------------------------- masks, shown as used

def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Key padding mask (q_pos, k_pos) from a tokenizer's (k_pos,) attention_mask: key j is allowed
    when it is a real token. Every query row gets the same allowed columns."""
    keep = attention_mask.bool()                              # (k_pos,)
    return keep[None, :].expand(keep.shape[0], -1)


def combined_mask(attention_mask: torch.Tensor, causal: bool = True) -> torch.Tensor:
    """What a causal model applies to a padded sequence: causal AND key-padding, (q_pos, k_pos)."""
    pad = padding_mask(attention_mask)
    return pad & subsequent_mask(pad.shape[0], pad.device) if causal else pad


@dataclass(frozen=True)
class MaskedHead:
    """One real head's scores through the mask: before, after (-inf where masked), softmax."""
    scores: torch.Tensor            # (q_pos, k_pos) q k^T * scale
    allowed: torch.Tensor           # (q_pos, k_pos) bool, the mask tensor scores_to_weights used
    masked: torch.Tensor            # (q_pos, k_pos) scores with -inf where not allowed
    weights: torch.Tensor           # (q_pos, k_pos) softmax(masked), rows sum to 1


@torch.inference_mode()
def masked_head(result: models.RunResult, layer: int, head: int) -> MaskedHead:
    """The same scores before and after the model's own mask (``mask_for``), and after softmax."""
    scores = head_scores(result, layer, head).float()
    allowed = mask_for(result)
    if allowed is None:                                      # bidirectional: every key allowed
        allowed = torch.ones_like(scores, dtype=torch.bool)
    return MaskedHead(scores, allowed, scores.masked_fill(~allowed, float("-inf")),
                      scores_to_weights(scores, allowed))


# --------------------------------------------------------------------------- inputs

def max_positions(name: str) -> int | None:
    """The longest input a model's position scheme supports (learned table rows, or RoPE context)."""
    return getattr(models.load(name).config, "max_position_embeddings", None)


def check_context(name: str, text: str) -> int:
    """Token count of ``text`` for ``name``; InputError naming the cap when it is too long."""
    lm = models.load(name)
    n = len(models.encode(lm, text)["ids"])                  # also enforces the global caps
    cap = max_positions(name)
    if cap and n > cap:
        raise InputError(
            f"{name} reads at most {cap:,} positions (its position table has {cap:,} rows) and this "
            f"input is {n:,} tokens. Use a shorter text or SmolLM2 (context 8,192); nothing is cut.")
    return n


def corpus_text(name: str, n_tokens: int) -> str:
    """The first whole tokens of the Lee news corpus (gensim's lee_background.cor) that make
    ``n_tokens`` tokens for ``name``'s tokenizer, specials included: a long real text on demand."""
    from gensim.test.utils import datapath

    with open(datapath("lee_background.cor"), encoding="utf-8", errors="replace") as fh:
        corpus = " ".join(line.strip() for line in fh)
    tok = models.load(name).tokenizer
    enc = tok(corpus[: n_tokens * 12], return_offsets_mapping=True, add_special_tokens=False)
    n_special = len(tok("", add_special_tokens=True)["input_ids"])
    spans = enc["offset_mapping"][: max(1, n_tokens - n_special)]
    return corpus[: spans[-1][1]]


@dataclass(frozen=True)
class PaddedBatch:
    """Sentences padded into one batch by the model's own tokenizer, and the masks that follow."""
    tokens: list[list[str]]          # per sequence, padded to k_pos
    attention_mask: torch.Tensor     # (batch, k_pos) 1 = real token, 0 = padding
    causal: torch.Tensor             # (q_pos, k_pos) bool, subsequent_mask
    padding: torch.Tensor            # (batch, q_pos, k_pos) bool, padding_mask per sequence
    combined: torch.Tensor           # (batch, q_pos, k_pos) bool, causal AND padding


def padded_batch(name: str, texts: list[str]) -> PaddedBatch:
    lm = models.load(name)
    for t in texts:
        models.encode(lm, t)                                  # caps and empty-text checks
    enc = lm.tokenizer(texts, padding=True, return_tensors="pt")
    am = enc["attention_mask"]                                # (batch, k_pos)
    causal = lm.spec.kind == "causal"
    toks = [[lm.tokenizer.decode([i]) for i in row] for row in enc["input_ids"].tolist()]
    return PaddedBatch(toks, am, subsequent_mask(am.shape[1]), torch.stack([padding_mask(m) for m in am]),
                       torch.stack([combined_mask(m, causal) for m in am]))


def above_diagonal(weights: torch.Tensor) -> dict:
    """How much attention goes to future keys (k_pos > q_pos): exactly 0 under a causal mask."""
    upper = torch.triu(weights, diagonal=1)
    n_cells = weights.shape[0] * (weights.shape[0] - 1) // 2
    return {"max": float(upper.max()) if n_cells else 0.0, "nonzero": int((upper != 0).sum()),
            "cells": n_cells, "mass_per_row": float(upper.sum() / weights.shape[0])}


def head_stats(result: models.RunResult, config=None):
    """Per-(layer, head) table: entropy_bits, mean_distance, sink_mass, prev_token (see
    ``core.attention_stats``, which holds the implementation and the sampling rule)."""
    from core import attention_stats                         # it imports this module
    return attention_stats.head_stats(result, config or attention_stats.DEFAULT)
