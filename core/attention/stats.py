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
from core.attention.heads import layer_weights
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


def _stats(w: torch.Tensor, rows: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-head means over rows of the four statistics. w: (head, row, k_pos)."""
    rows = rows.to(w.device)
    k_pos = torch.arange(w.shape[-1], device=w.device)
    ent = -(w * torch.log2(w.clamp_min(1e-30))).sum(-1)                   # (head, row)
    dist = (w * (rows[:, None] - k_pos[None, :]).abs()).sum(-1)           # (head, row)
    has_prev = rows >= 1
    prev = w[:, has_prev, :].gather(-1, (rows[has_prev] - 1)[None, :, None].expand(w.shape[0], -1, 1))
    return {"entropy_bits": ent.mean(1), "mean_distance": dist.mean(1), "sink_mass": w[:, :, 0].mean(1),
            "prev_token": prev[..., 0].mean(1) if has_prev.any() else torch.zeros(w.shape[0])}


def _thumb(w: torch.Tensor, thumb: int) -> torch.Tensor:
    """Sum key positions into ``thumb`` bins (rows keep summing to 1). (head, row, k_pos) -> (head, row, bin)."""
    n = w.shape[-1]
    bins = torch.div(torch.arange(n, device=w.device) * min(thumb, n), n, rounding_mode="floor")
    out = torch.zeros(*w.shape[:-1], min(thumb, n), device=w.device, dtype=w.dtype)
    return out.index_add_(-1, bins, w)


@torch.inference_mode()
def overview(result: models.RunResult, config: OverviewConfig = DEFAULT,
             progress: Callable[[float, str], None] | None = None) -> HeadOverview:
    """Statistics and thumbnails of every (layer, head), one layer of sampled rows at a time."""
    ad = result.adapter
    rows = sample_rows(result.n_tokens, config.max_rows)
    thumb_idx = np.unique(np.linspace(0, len(rows) - 1, min(config.thumb, len(rows))).round().astype(int))
    recs, thumbs = [], []
    for layer in range(result.n_layers):
        w = row_weights(result, layer, rows).float()         # (head, row, k_pos)
        st = {k: v.cpu().numpy() for k, v in _stats(w, rows).items()}
        for h in range(ad.layout.n_heads):
            recs.append({"layer": layer, "layer_type": ad.layer_label(layer), "head": h,
                         "kv_head": ad.layout.kv_head_of(h),
                         **{k: float(v[h]) for k, v in st.items()}})
        thumbs.append(_thumb(w[:, torch.as_tensor(thumb_idx, device=w.device)], config.thumb).cpu().numpy())
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
