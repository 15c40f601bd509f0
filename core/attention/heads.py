"""Attention weights recomputed on demand from a RunResult's hidden states, through its adapter.

The forward pass in ``core.runtime.models.run`` uses SDPA, which returns no weights. Here the
model's adapter (``core.runtime.adapters``) takes the hidden state entering layer ``l`` and reruns
only that layer's query/key projections, with the layer's own norm, q/k-norm, RoPE base and mask
(causal, bidirectional or sliding-window), for one head, so a 4,096-token input costs one
(q_pos, k_pos) matrix at a time. ``tests/test_adapters.py`` checks every family against HF eager.

Follows the annotated transformer's ``attention(q, k, v, mask)``: softmax(q k^T / sqrt(d_head) + mask).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.runtime import models
from core.runtime.adapters import HeadLayout, causal_mask, layout_of
from core.runtime.errors import InputError


def subsequent_mask(size: int, device=None) -> torch.Tensor:
    """Causal mask (q_pos, k_pos): True where query i may attend to key j, i.e. j <= i."""
    return causal_mask(size, device=device)


def scores_to_weights(scores: torch.Tensor, allowed: torch.Tensor | None) -> torch.Tensor:
    """softmax over k_pos after setting disallowed scores to -inf. (..., q_pos, k_pos)."""
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores.float(), dim=-1)


def head_shape(config) -> dict:
    """n_heads, n_kv_heads, d_head and the query-head -> KV-head group size for GQA/MQA."""
    lay: HeadLayout = layout_of(config)
    return {"n_heads": lay.n_heads, "n_kv_heads": lay.n_kv_heads, "d_head": lay.d_head, "group": lay.group}


def kv_head_of(config, head: int) -> int:
    """Which KV head query head ``head`` reads under GQA (consecutive groups, as in HF Llama)."""
    return layout_of(config).kv_head_of(head)


def layer_qk(result: models.RunResult, layer: int, q_rows: torch.Tensor | None = None,
             heads: list[int] | None = None) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Queries (head, q_pos, d_head) and keys (head, k_pos, d_head) of one layer, plus the scale.

    ``heads`` picks query heads (all by default; only their projection rows are computed);
    ``q_rows`` restricts the queries to some positions; keys always cover every position.
    """
    if not 0 <= layer < result.n_layers:
        raise IndexError(f"layer {layer} out of range 0..{result.n_layers - 1}")
    with torch.inference_mode():
        return result.adapter.qk(result.hidden_states[layer], layer, heads, q_rows)


def head_qk(result: models.RunResult, layer: int, head: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Query and key vectors of one head at one layer: (q_pos, d_head) each, plus the scale."""
    q, k, scale = layer_qk(result, layer, heads=[head])
    return q[0], k[0], scale


@torch.inference_mode()
def head_scores(result: models.RunResult, layer: int, head: int) -> torch.Tensor:
    """Raw scaled scores q k^T * scale, before any mask: (q_pos, k_pos)."""
    q, k, scale = head_qk(result, layer, head)
    return (q @ k.T) * scale


def mask_for(result: models.RunResult, layer: int, rows: torch.Tensor | None = None) -> torch.Tensor:
    """The bool mask layer ``layer`` itself applies, (q_pos, k_pos) or (len(rows), k_pos):
    causal, causal sliding-window (local layers), or all True (bidirectional encoders)."""
    return result.adapter.mask(layer, result.n_tokens, rows, result.hidden_states[0].device)


@torch.inference_mode()
def layer_weights(result: models.RunResult, layer: int, rows: torch.Tensor | None = None) -> torch.Tensor:
    """Exact attention rows of every head at one layer under its own mask: (head, q_pos, k_pos),
    or (head, len(rows), k_pos) for some query rows."""
    q, k, scale = layer_qk(result, layer, rows)              # (head, q_pos, d_head), (head, k_pos, d_head)
    return scores_to_weights((q @ k.transpose(1, 2)) * scale, mask_for(result, layer, rows))


def layer_kind(result: models.RunResult, layer: int) -> str:
    """"global", "local" or "bidirectional", and for local layers the window: for labels."""
    return result.adapter.layer_label(layer)


@torch.inference_mode()
def head_weights(result: models.RunResult, layer: int, head: int, *, block: int = 512) -> torch.Tensor:
    """Attention probabilities of one (layer, head): (q_pos, k_pos), rows sum to 1.

    Same maths as ``scores_to_weights(head_scores(...), mask_for(...))``. For a causal model the
    rows are done in blocks of ``block`` queries that only score the keys they may see (from the
    window's start, or 0, up to the block's last query), so long inputs never hold the full score
    matrix twice; masked weights are exactly 0 either way.
    """
    q, k, scale = head_qk(result, layer, head)              # (q_pos, d_head) each
    n = q.shape[0]
    if not result.causal or n <= block:
        return scores_to_weights((q @ k.T) * scale, mask_for(result, layer))
    window = result.adapter.window(layer)
    out = torch.zeros(n, n, device=q.device)                # (q_pos, k_pos)
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        k0 = 0 if window is None else max(0, r0 - window + 1)
        rows = torch.arange(r0, r1, device=q.device)
        allowed = mask_for(result, layer, rows)[:, k0:r1]    # (rows, keys k0..r1)
        out[r0:r1, k0:r1] = scores_to_weights((q[r0:r1] @ k[k0:r1].T) * scale, allowed)
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
    """The same scores before and after the layer's own mask (``mask_for``), and after softmax."""
    scores = head_scores(result, layer, head).float()
    allowed = mask_for(result, layer)
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
            f"{name} reads at most {cap:,} positions (max_position_embeddings in its config) and this "
            f"input is {n:,} tokens. Use a shorter text or a causal model (SmolLM2: 8,192, Gemma 3: "
            "32,768); nothing is cut.")
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
