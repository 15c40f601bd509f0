"""Attention page at long inputs, and bertviz's HTML size, on this machine.

- SmolLM2-135M on the first 4,096 tokens of the Lee corpus: forward pass once (cached by the app),
  then per head view: recompute one head (``core.attention.heads.head_weights``), build the three figures the
  page sends (downsampled overview PNG, 64x64 full-resolution window, query-row bars) and serialise
  them as Streamlit does (plotly JSON). Targets: <= 1 MB sent per view, <= 0.5 s per head switch.
- The naive alternative for comparison: one full-resolution plotly heatmap of the 4,096^2 weights.
- bertviz for MiniLM (6 layers x 12 heads) at 64/128/256 tokens: its own HTML vs ours (rounded to
  3 decimals, JSON once, libraries inlined for offline use).

Run: .venv/bin/python -m bench.bench_attention
"""
from __future__ import annotations

import pathlib
import time

import numpy as np
import plotly.graph_objects as go

from bench.common import md_table, median_time, write_report
from core.attention import heads as attention
from core.attention import stats as attention_stats
from core.attention import bertviz_offline
from core.runtime import models
from core.figures import attention as figs

SMOL, MINI = models.DEFAULT_CAUSAL, models.DEFAULT_ENCODER
HEADS = [(3, 0), (10, 4), (17, 8), (24, 2), (29, 6)]


def head_view(res: models.RunResult, layer: int, head: int, query: int) -> int:
    """Everything a head switch does at 4,096 tokens; returns the bytes sent to the browser."""
    w = attention.head_weights(res, layer, head).cpu().numpy()
    n, size = w.shape[0], 64
    q0 = int(np.clip(query - size // 2, 0, n - size))
    figures = [figs.head_heatmap(w, res.tokens, log=True, window=(q0, q0, size)),
               figs.window_heatmap(w[q0:q0 + size, q0:q0 + size], res.tokens, q0, q0, log=True),
               figs.row_bars(w[query], res.tokens, query)]
    return sum(len(f.to_json().encode()) for f in figures)


def long_input() -> tuple[list[dict], dict]:
    text = attention.corpus_text(SMOL, 4096)
    t = time.perf_counter()
    res = models.run(SMOL, text)
    forward = time.perf_counter() - t
    rows = []
    for layer, head in HEADS:
        sent = head_view(res, layer, head, 2000)
        sec, _ = median_time(lambda: head_view(res, layer, head, 2000), repeat=3, warmup=0)
        rows.append({"layer, head": f"{layer}, {head}", "switch time (s)": f"{sec:.3f}",
                     "bytes sent": f"{sent:,}", "≤ 1 MB": "yes" if sent <= 2**20 else "NO",
                     "≤ 0.5 s": "yes" if sec <= 0.5 else "NO"})
    w = attention.head_weights(res, 3, 0).cpu().numpy()
    naive = len(go.Figure(go.Heatmap(z=w)).to_json().encode())
    t = time.perf_counter()
    ov = attention_stats.overview(res)
    overview_s = time.perf_counter() - t
    thumbs = len(figs.thumbnails(ov.thumbnails, ov.table).to_json().encode())
    extra = {"tokens": res.n_tokens, "forward_s": forward, "naive_bytes": naive, "overview_s": overview_s,
             "overview_rows": len(ov.rows), "thumbs_bytes": thumbs}
    return rows, extra


def bertviz_sizes() -> list[dict]:
    rows = []
    for n in (64, 128, 256):
        res = models.run(MINI, attention.corpus_text(MINI, n))
        raw = bertviz_offline.raw_size(res, "head")
        ours = bertviz_offline.embed(res, "head", layers=list(range(res.n_layers)), enforce_cap=False).n_bytes
        rows.append({"tokens": n, "bertviz head_view HTML": f"{raw / 1e6:.1f} MB",
                     "Atlas offline embed": f"{ours / 1e6:.1f} MB", "ratio": f"{raw / ours:.1f}×",
                     "offered in the app": "yes" if n <= 128 else "no (over the cap)"})
    return rows


def main() -> pathlib.Path:
    from bench import bench_gemma
    rows, x = long_input()
    bv = bertviz_sizes()
    g_fwd, g_switch = bench_gemma.forward_rows(), bench_gemma.head_switch_rows()
    body = f"""
## Long input: SmolLM2-135M, {x['tokens']:,} tokens (Lee corpus)

Forward pass (done once, cached by the app): {x['forward_s']:.1f} s.

Per head view (recompute one head from the cached hidden states, build overview PNG + 64×64 window +
query-row bars, serialise to plotly JSON), median of 3:

{md_table(rows)}

For comparison, one full-resolution plotly heatmap of the same 4,096² head would send
{x['naive_bytes'] / 1e6:.1f} MB ({x['naive_bytes'] / max(1, int(rows[0]['bytes sent'].replace(',', ''))):.0f}× more).

All-heads overview (30 × 9 heads, statistics on {x['overview_rows']} sampled query rows, thumbnails):
{x['overview_s']:.1f} s once per input, thumbnail figure {x['thumbs_bytes'] / 1e6:.2f} MB.

## Long input: Gemma 3 270M (local window 512 / global layers)

Forward pass, Atlas ``run()`` against a bare HF forward of the same ids (no hidden states kept,
last-position logits only), median of 3:

{md_table(g_fwd)}

Head switch at 4,096 tokens, a local and a global layer, median of 3:

{md_table(g_switch)}

## bertviz HTML size, MiniLM (6 layers × 12 heads), head view, all layers

{md_table(bv)}

The Atlas embed includes ~0.4 MB of inlined require.js, d3 5.7.0 and jQuery 2.2.4 (no CDN).
"""
    return write_report("attention", "Attention maps at long inputs, and bertviz size", body)


if __name__ == "__main__":
    print(main().read_text())
