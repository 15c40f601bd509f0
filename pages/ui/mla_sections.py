"""The KV cache & MLA page's MLA sections: the measured caches of MHA, GQA, MQA and MLA decoding the
same tokens, and naive vs weight-absorbed MLA measured over batch x context. Each: widgets -> one
core call (core.efficiency.mla, mla_tradeoff) -> one figure builder (core.figures.efficiency) -> render."""
from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core.efficiency import kv_cache as kc
from core.efficiency import mla
from core.efficiency import mla_tradeoff as tradeoff
from core.figures import efficiency as fx
from core.runtime import device, limits
from core.runtime.errors import InputError
from pages.ui import show_figure, show_table, url_multiselect, url_number, url_select
from pages.ui.budget import expensive

GRID_BATCHES, GRID_CONTEXTS = [1, 2, 4, 8, 16, 32, 64], [4, 16, 64, 256, 1024, 4096]
HOSTED_CELL = 16 * 1024                                    # hosted: batch x context per grid cell
TRADE_STEPS = 3


@st.cache_data(max_entries=8, show_spinner="Running the four attention stacks…")
def decode_runs(preset: str, prompt: int, new: int, batch: int) -> dict:
    return {k: mla.decode(k, mla.PRESETS[preset], prompt, new, batch=batch) for k in mla.KINDS}


@st.cache_data(max_entries=64, show_spinner=False)
def trade_cell(preset: str, batch: int, context: int) -> dict:
    """One grid cell, one MLA layer (layers only multiply the time), cached per process."""
    return tradeoff.step_ms(dataclasses.replace(mla.PRESETS[preset], n_layers=1), batch, context, TRADE_STEPS)


def mla_decode() -> str:
    """The four stacks decoded and their caches measured; returns the chosen shapes preset."""
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        preset = url_select("Shapes", list(mla.PRESETS), "mla_shapes", "small (fast)")
    with c2:
        prompt = url_number("Prompt tokens (prefill)", "mla_prompt", 1, 4096, 8)
    with c3:
        new = url_number("Generated tokens (decode)", "mla_new", 1, 256, 96)
    with c4:
        batch = url_number("Batch (sequences)", "mla_batch", 1, 64, 1)
    if limits.hosted() and batch * (prompt + new) > HOSTED_CELL:
        raise InputError(f"The hosted demo decodes up to batch × tokens = {HOSTED_CELL:,}; you asked for "
                         f"{batch} × {prompt + new:,}. Run the Atlas locally for more.")
    cfg = mla.PRESETS[preset]
    st.caption(f"{cfg.n_layers} layers, d_model {cfg.d_model}, {cfg.n_heads} heads, d_c {cfg.d_c}, "
               f"d_h^R {cfg.d_rope}, d_nope {cfg.d_nope}, d_v {cfg.d_v}; MHA/GQA baselines use d_head {cfg.d_v}, "
               f"GQA shares each KV head among {cfg.gqa_groups} query heads. fp32, batch {batch}.")
    runs = decode_runs(preset, prompt, new, batch)
    diff = float((runs["MLA naive"].outputs - runs["MLA absorbed"].outputs).abs().max())
    curves, rows = {}, []
    for kind, r in runs.items():
        conf = mla.kv_config(kind, cfg)
        predicted = [kc.cache_bytes(conf, s, batch, r.bytes_per_element) for s in r.seq_lens]
        curves[kind] = (r.seq_lens, r.cache_bytes, predicted)
        rows.append({"cache": kind, "elements/token": kc.elements_per_token(conf),
                     "measured bytes (numel × element_size)": r.cache_bytes[-1],
                     "formula bytes": predicted[-1], "equal": r.cache_bytes == predicted,
                     "decode ms/step (median)": round(r.ms_per_token, 2)})
    held = [f"{r['measured bytes (numel × element_size)']:,} B ({r['cache']})" for r in rows[:3]]
    show_figure(fx.measured_cache_figure({k: v for k, v in curves.items() if k != "MLA absorbed"}),
                "mla-measured-cache", data=pd.DataFrame(rows),
                summary=f"After {prompt + new} tokens × batch {batch} the allocated caches hold {', '.join(held)}, "
                        "each equal to its formula; all three grow by a fixed amount per token.")
    show_table(pd.DataFrame(rows), "mla-decode",
               summary=f"Naive and weight-absorbed MLA outputs differ by at most {diff:.1e} (same cache). A step "
                       f"decodes one token for each of the {batch} sequences. Timings are medians on this machine "
                       "and are noisy when it is shared.")
    return preset


def _explain(cfg: mla.MLAConfig) -> str:
    h, keys = cfg.n_heads, tradeoff.macs_break_even(cfg)
    ov_mb, o_mb = h * cfg.d_c * cfg.d_model * 4 / 1e6, h * cfg.d_v * cfg.d_model * 4 / 1e6
    return (
        "**Naive vs absorbed: a trade.** Each decode step, *naive* MLA decompresses every cached latent back "
        f"into per-head keys and values: {cfg.d_c} × {h} × ({cfg.d_nope} + {cfg.d_v}) = "
        f"{cfg.d_c * h * (cfg.d_nope + cfg.d_v):,} multiply-adds per cached token, for every sequence of the batch, "
        f"and it writes and reads K and V of {h * (cfg.d_nope + cfg.d_v):,} numbers per token, "
        f"{h * (cfg.d_nope + cfg.d_v) / (cfg.d_c + cfg.d_rope):.1f}× the cache itself. *Absorbed* MLA folds W_UK "
        "into the query and W_UV into the output (DeepSeek-V2, arXiv:2405.04434, Sec. 2.1.2) and attends on the "
        "latent directly: no decompression. It pays instead on the latent width: per query q_C·W_UK "
        f"({h} × {cfg.d_nope} × {cfg.d_c}) and W_OV ({h} × {cfg.d_c} × {cfg.d_model}, {cfg.d_c / cfg.d_v:.0f}× the "
        f"size of W_O), and scores and the weighted sum at width {cfg.d_c} per head instead of {cfg.d_nope} and "
        f"{cfg.d_v}. Counted in multiply-adds, absorbed is cheaper from about {keys:.0f} keys on, at any batch. "
        f"In time, a small step is bound by memory traffic: every step reads W_OV ({ov_mb:.0f} MB in fp32, against "
        f"W_O's {o_mb:.0f} MB) once, whatever the batch, so at batch 1 and a short cache that read can outweigh "
        "naive's decompression and the measured crossover comes later; a larger batch shares the read, and "
        "naive's decompression grows with batch × context, so that is where absorbed wins most. For a prefill chunk of 512 "
        f"queries the count turns around (naive / absorbed = {tradeoff.macs_ratio(cfg, 1, 0, 512):.2f}): many "
        "queries share one decompression, so naive is the prefill path.")


def naive_vs_absorbed(preset: str) -> None:
    cfg = mla.PRESETS[preset]
    c1, c2 = st.columns(2)
    with c1:
        batches = url_multiselect("Batch sizes", GRID_BATCHES, "trade_b", [1, 4, 16])
    with c2:
        contexts = url_multiselect("Cached tokens (context)", GRID_CONTEXTS, "trade_s", [4, 16, 64, 256, 1024])
    st.caption(f"One {preset} MLA layer, fp32; per cell the median of {TRADE_STEPS} decode steps after a warm-up, "
               "naive and absorbed interleaved in the same run; the cache is filled to the context with random "
               "latents. bench/results/mla.md has the grid to batch 64 × 8,192 tokens."
               + (f" Hosted demo: batch × context ≤ {HOSTED_CELL:,} per cell." if limits.hosted() else ""))
    key = (preset, tuple(sorted(batches)), tuple(sorted(contexts)))
    done = st.session_state.setdefault("mla_trade_measured", set())
    if st.button("Measure naive vs absorbed", type="primary", icon=":material/speed:"):
        cells = [(b, s) for b in key[1] for s in key[2]]
        big = [c for c in cells if c[0] * c[1] > HOSTED_CELL]
        if limits.hosted() and big:
            raise InputError(f"The hosted demo measures up to batch × context = {HOSTED_CELL:,} per cell; "
                             f"batch {big[0][0]} × {big[0][1]:,} is over. Run the Atlas locally for more.")
        with expensive("tradeoff"):
            bar = st.progress(0.0, text="Timing…")
            for i, (b, s) in enumerate(cells):
                bar.progress(i / len(cells), text=f"batch {b}, {s:,} cached tokens ({i + 1}/{len(cells)})…")
                trade_cell(preset, b, s)
            bar.progress(1.0, text="Done")
        done.add(key)
    st.markdown(_explain(cfg))
    if key not in done or not key[1] or not key[2]:
        st.caption("Not measured yet for these batch sizes and contexts: press **Measure naive vs absorbed**.")
        return
    rows = [trade_cell(preset, b, s) for b in key[1] for s in key[2]]
    wins = [r for r in rows if r["naive / absorbed"] > 1]
    best, worst = (f(rows, key=lambda r: r["naive / absorbed"]) for f in (max, min))
    show_figure(fx.tradeoff_figure(rows), "mla-naive-vs-absorbed", data=pd.DataFrame(rows),
                summary=f"Absorbed is faster in {len(wins)} of {len(rows)} cells. Largest win: "
                        f"{best['naive / absorbed']:.2f}× at batch {best['batch']} × {best['context']:,} tokens "
                        f"({best['naive ms']:.1f} vs {best['absorbed ms']:.1f} ms); "
                        + (f"naive is faster in {len(rows) - len(wins)}, most at batch {worst['batch']} × "
                           f"{worst['context']:,} tokens ({1 / worst['naive / absorbed']:.2f}×)." if worst["naive / absorbed"] < 1
                           else f"smallest win {worst['naive / absorbed']:.2f}× at batch {worst['batch']} × "
                                f"{worst['context']:,} tokens.")
                        + " The dashed line is the multiply-add ratio, the same at every batch. Steps of a few ms are "
                          f"noisy on a shared machine (here: {device.describe()}); the bench runs one thread.")
