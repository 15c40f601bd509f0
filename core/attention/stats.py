"""Per-head statistics, thumbnails and attention rollout, computed without holding L x H x T x T.

Statistics per (layer, head), each a mean over query rows:
- entropy (bits) of the row's distribution: low = focused, high = spread out;
- mean attention distance sum_k w[q, k] * |q - k| in tokens (Clark et al. 2019, "What does BERT
  look at?", and the ViT paper's "attention distance");
- sink mass w[q, 0] on the first token (Xiao et al. 2023, "attention sinks");
- previous-token attention w[q, q - 1] (the first half of an induction circuit, Olsson et al. 2022).

At long inputs the rows are an evenly spaced sample of ``OverviewConfig.max_rows`` query positions
(softmax is per row, so every sampled row is exact; the means are estimates, and the row count is
returned). Rollout (``core.attention.rollout``, Abnar & Zuidema 2020) needs every full map, so it is capped at
``OverviewConfig.rollout_max_tokens``.

Shape names: layer, head, q_pos, k_pos, d_head; "row" is a sampled q_pos.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.runtime import models
from core.attention.heads import layer_qk, layer_weights, mask_for
from core.attention.rollout import rollout as _rollout
from core.runtime.errors import InputError


@dataclass(frozen=True)
class OverviewConfig:
    max_rows: int = 512            # query rows sampled for statistics at long inputs
    thumb: int = 32                # thumbnail side in pixels (rows x key bins)
    rollout_max_tokens: int = 1024


DEFAULT = OverviewConfig()
QUICK = OverviewConfig(max_rows=128, thumb=24, rollout_max_tokens=256)   # tests, hosted demos

STATS = {"entropy_bits": "entropy (bits)", "mean_distance": "mean attention distance (tokens)",
         "sink_mass": "attention on the first token", "prev_token": "attention to the previous token"}


@dataclass(frozen=True)
class HeadOverview:
    table: pd.DataFrame            # one row per (layer, head): STATS columns + kv_head
    thumbnails: np.ndarray         # (layer, head, thumb_rows, thumb) weights summed into key bins
    rows: np.ndarray               # (n_rows,) the query positions the statistics used
    thumb_rows: np.ndarray         # (thumb_rows,) the query positions drawn in thumbnails
    n_tokens: int

    @property
    def sampled(self) -> bool:
        return len(self.rows) < self.n_tokens


def sample_rows(n_tokens: int, max_rows: int) -> torch.Tensor:
    """Evenly spaced query positions, first and last included; all of them when few."""
    if n_tokens <= max_rows:
        return torch.arange(n_tokens)
    return torch.linspace(0, n_tokens - 1, max_rows).round().long().unique()


def row_weights(result: models.RunResult, layer: int, rows: torch.Tensor) -> torch.Tensor:
    """Exact attention rows of every head at one layer: (head, row, k_pos)."""
    return layer_weights(result, layer, rows)


def _stats(w: torch.Tensor, rows: torch.Tensor, k0: int = 0) -> dict[str, torch.Tensor]:
    """The four statistics of every head and row, straight from the weights. w: (head, row, keys)
    holds keys k0, k0 + 1, ... of each row (keys a row does not see have weight 0, so leaving them
    out changes no sum). The reference for ``_chunk``, which gets the same numbers without the
    elementwise passes."""
    rows = rows.to(w.device)
    k_pos = torch.arange(k0, k0 + w.shape[-1], device=w.device)
    ent = -(w * torch.log2(w.clamp_min(1e-30))).sum(-1)                   # (head, row)
    dist = (w * (rows[:, None] - k_pos[None, :]).abs().to(w.dtype)).sum(-1)   # (head, row)
    sink = w[:, :, 0] if k0 == 0 else w.new_zeros(w.shape[:2])           # key 0 outside every window
    prev_k = (rows - 1 - k0).clamp_min(0)                                 # row 0 has no previous token
    prev = w.gather(-1, prev_k[None, :, None].expand(w.shape[0], -1, 1))[..., 0]
    return {"entropy_bits": ent, "mean_distance": dist, "sink_mass": sink, "prev_token": prev}


def _thumb(w: torch.Tensor, thumb: int, n: int | None = None, k0: int = 0) -> torch.Tensor:
    """Sum key positions into ``thumb`` bins of the ``n`` keys (rows keep summing to 1).
    (head, row, keys k0..) -> (head, row, bin)."""
    n = w.shape[-1] if n is None else n
    k_pos = torch.arange(k0, k0 + w.shape[-1], device=w.device)
    bins = torch.div(k_pos * min(thumb, n), n, rounding_mode="floor")
    out = torch.zeros(*w.shape[:-1], min(thumb, n), device=w.device, dtype=w.dtype)
    return out.index_add_(-1, bins, w)


CHUNK_CELLS = 1 << 20        # (head, row, key) scores per chunk: a few MB, so each pass stays in cache
LN2 = 0.6931471805599453


def _chunk(q: torch.Tensor, k_aug: torch.Tensor, scale: float, rows: torch.Tensor, k0: int,
           allowed: torch.Tensor, causal: bool, thumb_rows: torch.Tensor, thumb: int, n: int):
    """Statistics (each (head, row)) and thumbnail rows of some sampled query rows, whose keys are
    k0 .. k0 + allowed.shape[1] - 1. ``k_aug`` (head, keys, d_head + 1) is the keys with their
    position as one more column.

    One pass makes e = exp(s - m) (s the masked scores, m each row's maximum, z = sum e, so the
    weights are e / z); one product e @ k_aug then gives sum_k e k and sum_k e k_pos, from which
    entropy = log z + m - scale * q . (sum_k w k)   (as -sum w log w with log w = s - m - log z)
    mean distance = row - sum_k w k_pos            (causal: every key seen is at or before the row),
    without a logarithm or a product per (head, row, key)."""
    d = q.shape[-1]
    s = torch.bmm(q, k_aug[:, :, :d].transpose(1, 2)).mul_(scale)              # (head, row, keys)
    s.masked_fill_(~allowed, float("-inf"))
    m = s.amax(-1, keepdim=True)                         # finite: a row always sees itself
    e = s.sub_(m).exp_()                                 # in place; unseen keys exactly 0
    z = e.sum(-1)                                        # (head, row)
    u = torch.bmm(e, k_aug) / z[..., None]               # (head, row, d_head + 1): sum_k w [k, k_pos]
    ent = (z.log() + m[..., 0] - scale * (q * u[..., :d]).sum(-1)).clamp_min(0) / LN2
    rows = rows.to(e.device)
    if causal:
        dist = rows[None].to(e.dtype) - u[..., d]
    else:
        k_pos = torch.arange(k0, k0 + e.shape[-1], device=e.device)
        dist = (e * (rows[:, None] - k_pos[None, :]).abs().to(e.dtype)).sum(-1) / z
    sink = e[:, :, 0] / z if k0 == 0 else z.new_zeros(z.shape)     # key 0 outside every window
    prev_k = (rows - 1 - k0).clamp_min(0)                          # row 0 has no previous token
    prev = e.gather(-1, prev_k[None, :, None].expand(e.shape[0], -1, 1))[..., 0] / z
    t = thumb_rows.to(e.device)
    thumbs = _thumb(e[:, t] / z[:, t, None], thumb, n, k0)
    return {"entropy_bits": ent, "mean_distance": dist, "sink_mass": sink, "prev_token": prev}, thumbs


def _layer(result: models.RunResult, layer: int, rows: torch.Tensor, thumb_idx: torch.Tensor,
           thumb: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """One layer's per-row statistics (each (head, row)) and thumbnail rows (head, thumb_rows, bin).

    All heads at once through the adapter, the sampled rows in chunks; a chunk scores only the keys
    its rows may see (causal: up to its last row; sliding window: from its first row's window
    start), under the layer's own mask, so every row is the exact row of ``row_weights``.
    """
    ad, n = result.adapter, result.n_tokens
    q, k, scale = layer_qk(result, layer, rows)              # (head, row, d_head), (head, k_pos, d_head)
    k_pos = torch.arange(n, device=k.device, dtype=k.dtype)
    k_aug = torch.cat([k, k_pos[None, :, None].expand(k.shape[0], n, 1)], -1)   # (head, k_pos, d_head + 1)
    window = ad.window(layer)
    step = max(1, CHUNK_CELLS // (q.shape[0] * n))
    parts, thumbs = [], []
    for r0 in range(0, len(rows), step):
        rc = rows[r0:r0 + step]
        k0 = max(0, int(rc[0]) - window + 1) if (ad.causal and window) else 0
        k1 = int(rc[-1]) + 1 if ad.causal else n
        allowed = mask_for(result, layer, rc)[:, k0:k1]       # (row, keys k0..k1)
        t = thumb_idx[(thumb_idx >= r0) & (thumb_idx < r0 + step)] - r0
        st, th = _chunk(q[:, r0:r0 + step].float(), k_aug[:, k0:k1].float(), scale, rc, k0, allowed,
                        ad.causal, t, thumb, n)
        parts.append(st)
        thumbs.append(th)
    return {key: torch.cat([p[key] for p in parts], 1) for key in STATS}, torch.cat(thumbs, 1)


@torch.inference_mode()
def overview(result: models.RunResult, config: OverviewConfig = DEFAULT,
             progress: Callable[[float, str], None] | None = None) -> HeadOverview:
    """Statistics and thumbnails of every (layer, head), one layer of sampled rows at a time."""
    ad = result.adapter
    rows = sample_rows(result.n_tokens, config.max_rows)
    thumb_idx = np.unique(np.linspace(0, len(rows) - 1, min(config.thumb, len(rows))).round().astype(int))
    has_prev = (rows >= 1).to(result.hidden_states[0].device)
    recs, thumbs = [], []
    for layer in range(result.n_layers):
        per_row, th = _layer(result, layer, rows, torch.as_tensor(thumb_idx), config.thumb)
        per_row["prev_token"] = (per_row["prev_token"][:, has_prev] if has_prev.any()
                                 else torch.zeros_like(per_row["prev_token"]))
        st = {key: v.mean(1).cpu().numpy() for key, v in per_row.items()}
        label = ad.layer_label(layer)
        recs += [{"layer": layer, "layer_type": label, "head": h, "kv_head": ad.layout.kv_head_of(h),
                  **{key: float(v[h]) for key, v in st.items()}} for h in range(ad.layout.n_heads)]
        thumbs.append(th.cpu().numpy())
        if progress:
            progress((layer + 1) / result.n_layers, f"layer {layer + 1} of {result.n_layers}")
    return HeadOverview(pd.DataFrame(recs), np.stack(thumbs), rows.numpy(),
                        rows.numpy()[thumb_idx], result.n_tokens)


def head_stats(result: models.RunResult, config: OverviewConfig = DEFAULT) -> pd.DataFrame:
    """Table of per-(layer, head) statistics: layer, head, kv_head, entropy_bits, mean_distance,
    sink_mass, prev_token (means over query rows; sampled rows beyond ``config.max_rows``)."""
    return overview(result, config).table


def rollout(result: models.RunResult, config: OverviewConfig = DEFAULT,
            progress: Callable[[float, str], None] | None = None) -> np.ndarray:
    """Attention rollout of a text model (``core.attention.rollout``): (q_pos, k_pos), rows sum
    to 1. Row q says how much of the last layer's output at q traces back to each input token."""
    n = result.n_tokens
    if n > config.rollout_max_tokens:
        raise InputError(
            f"Rollout multiplies every layer's full {n:,} x {n:,} map averaged over all heads; it is "
            f"computed up to {config.rollout_max_tokens:,} tokens so the page stays interactive. "
            "The per-head statistics above cover this input.")
    rows = torch.arange(n)
    maps = (row_weights(result, layer, rows) for layer in range(result.n_layers))
    return _rollout(maps, n_layers=result.n_layers, progress=progress).astype(np.float32)
