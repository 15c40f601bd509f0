"""Sections (tabs) of the sparse & linear attention page. Each reads its widgets, makes cached
core calls and renders one figure builder's output; the maths lives in core.efficiency
(patterns, flex, on_model, linear), the figures in core.figures.efficiency and
core.figures.model_sparsity."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.runtime import device
from core.runtime import limits
from core.efficiency import patterns as sparse
from core.efficiency import flex as sparse_exec
from core.efficiency import on_model
from core.figures import efficiency as fx
from pages.ui import (show_figure, show_table, url_multiselect, url_number, url_select,
                      url_slider, url_text, url_toggle)
from pages.ui.budget import expensive
from pages.ui.engine import load_model, run_model

MODEL = "smollm2-135m"
GPU = device.get_device().type == "cuda"
LENGTHS = [256, 512, 1024, 2048, 4096, 8192, 16384, 32768]


@st.cache_data(max_entries=16, show_spinner=False)
def pattern_info(pattern: str, n: int, params_json: str):
    p = sparse.build(pattern, n, **json.loads(params_json))
    grid, f = fx.downsample_mask(p.mask)
    return grid, f, p.params, p.notes, sparse.cost(p.mask, block=sparse_exec.tile_size())


@st.cache_data(max_entries=64, show_spinner=False)
def measured(pattern: str, params_json: str, n: int) -> dict:
    return sparse_exec.as_rows(sparse_exec.measure(pattern, json.loads(params_json), [n]))[0]


@st.cache_resource(max_entries=8, show_spinner="Recomputing the layer and the rest of the model…")
def model_effect(text: str, layer: int, head: int, pattern: str, size: int):
    res = run_model(MODEL, text)
    p = sparse.build(pattern, res.n_tokens, **sparse.sized(pattern, size))
    return on_model.apply_to_model(res, layer, head, p.mask), p.notes


def pattern_tab() -> None:
    c1, c2 = st.columns(2)
    with c1:
        pattern = url_select("Pattern", sparse.PATTERNS, "pattern", "longformer")
    with c2:
        n = url_select("Sequence length (tokens)", LENGTHS[:6], "n", 4096)
    st.caption(sparse.SOURCES.get(pattern, "A primitive from the taxonomy of Tunstall et al., ch. 11."))
    params = {}
    cols = st.columns(len(sparse.DEFAULTS[pattern]))
    for col, (name, default) in zip(cols, sparse.DEFAULTS[pattern].items()):
        with col:
            key = f"{pattern}_{name}"
            params[name] = (url_toggle(name, key, default) if isinstance(default, bool)
                            else url_number(name, key, 0, 1_000_000, default))
    grid, f, used, notes, cost = pattern_info(pattern, n, json.dumps(params, sort_keys=True))
    for note in notes:
        st.info(note, icon=":material/straighten:")
    show_figure(fx.grid_figure(grid, f, title=f"{pattern} at {n:,} tokens"), f"sparse-mask-{pattern}-{n}",
                data=pd.DataFrame(grid),
                summary=f"{pattern} keeps {cost['pairs_kept']:,} of {cost['pairs_dense']:,} pairs "
                        f"(density {cost['density']:.2%}); {cost['block_density']:.0%} of {cost['block']}×{cost['block']} tiles are "
                        f"non-empty{'' if f == 1 else f'; drawn as {f}×{f} tiles, the CSV holds the tile fractions drawn'}.")
    show_table(pd.DataFrame([
        {"quantity": q, "dense": f"{cost[a]:,}", "sparse": f"{cost[b]:,}"} for q, a, b in [
            ("pairs scored (per head)", "pairs_dense", "pairs_kept"),
            ("FLOPs, QKᵀ and AV, 8 heads × d_head 64", "flops_dense", "flops_sparse"),
            ("score memory, fp32, 8 heads (bytes)", "score_bytes_dense", "score_bytes_sparse")]]), "sparse-cost",
        summary=f"Theory: ideal speed-up 1/density = {cost['ideal_speedup']:.1f}×; a {cost['block']}×{cost['block']} "
                f"block kernel computes every non-empty tile, so it can reach at most "
                f"{1 / max(cost['block_density'], 1e-9):.1f}×. Score memory is what materialising the "
                "T × T scores would take (T² × 8 heads × 4 B). PyTorch's scaled_dot_product_attention never "
                "materialises them: its flash and memory-efficient kernels stream tiles of keys through an "
                "online softmax (Dao et al. 2022, *FlashAttention*) and hold the T × T boolean mask (1 B a pair) "
                "plus tiles of scores, so the dense peak measured below is far smaller than this figure.")

    st.subheader("Executed and measured")
    budget = sparse_exec.budget_bytes()
    default_lengths = [512, 1024, 2048, 4096] + ([8192, 16384] if GPU else [])
    lengths = url_multiselect("Lengths to measure", LENGTHS, "lengths", default_lengths)
    st.caption(f"Device: {device.describe()}. Measurement budget {budget / 2**30:.2f} GiB for the dense "
               f"reference{f'; hosted demo: up to {sparse_exec.HOSTED_MAX_LEN:,} tokens' if limits.hosted() else ''}. "
               "The first compile takes 10–20 s and each new length ≈ 8 s; kernels are cached per server process.")
    key = (pattern, json.dumps(params, sort_keys=True), tuple(sorted(lengths)))
    done = st.session_state.setdefault("sparse_measured", set())
    if st.button("Measure", type="primary", icon=":material/speed:"):
        sparse_exec.check_lengths(sorted(lengths))
        with expensive("compile"):
            bar = st.progress(0.0, text="Compiling and timing…")
            for i, length in enumerate(sorted(lengths)):
                bar.progress(i / len(lengths), text=f"{length:,} tokens ({i + 1}/{len(lengths)})…")
                measured(key[0], key[1], length)
            bar.progress(1.0, text="Done")
        done.add(key)
    if key in done and lengths:
        rows = pd.DataFrame([measured(key[0], key[1], length) for length in key[2]])
        ok = bool(rows["flex compiled"].all())
        show_figure(fx.loglog(rows["tokens"], {"flex_attention (compiled)" if ok else "flex_attention (NOT compiled)":
                                               rows["flex ms"], "dense SDPA + bool mask": rows["dense SDPA ms"]},
                              x_title="sequence length (tokens)", y_title="time (ms, median)"),
                    "sparse-time", data=rows, summary=f"At {rows['tokens'].iloc[-1]:,} tokens: flex "
                    f"{rows['flex ms'].iloc[-1]:.1f} ms vs dense {rows['dense SDPA ms'].iloc[-1]:.1f} ms; "
                    f"outputs differ by at most {rows['max |flex - dense|'].max()}.")
        show_figure(fx.loglog(rows["tokens"], {"flex peak": rows["flex peak MiB"], "dense peak": rows["dense peak MiB"]},
                              x_title="sequence length (tokens)", y_title="peak memory during the call (MiB)"),
                    "sparse-memory", data=rows, summary=f"Peak at {rows['tokens'].iloc[-1]:,} tokens: flex "
                    f"{rows['flex peak MiB'].iloc[-1]:.1f} MiB, dense {rows['dense peak MiB'].iloc[-1]:.1f} MiB.")
        if ok:
            show_figure(fx.speedup_figure(rows["tokens"], rows["measured speed-up"], rows["ideal speed-up (1/density)"],
                                          1 / rows["tile density"]), "sparse-speedup", data=rows,
                        summary=f"Measured {rows['measured speed-up'].iloc[-1]:.2f}× at {rows['tokens'].iloc[-1]:,} "
                                f"tokens against an ideal {rows['ideal speed-up (1/density)'].iloc[-1]:.1f}×.")
        else:
            st.warning("flex_attention could not be compiled here, so it materialised the full matrix: "
                       "no speed-up is claimed.")
        show_table(rows, "sparse-measurements")
    else:
        st.caption("Not measured yet for this pattern and these lengths: press **Measure**.")


def model_tab() -> None:
    text = url_text("Text", "mtext", "The quick brown fox jumps over the lazy dog. The dog sleeps, "
                    "and the fox runs into the forest where it", area=True)
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        mpattern = url_select("Pattern", sparse.PATTERNS, "mpattern", "window")
    with c2:
        size = url_number(f"{sparse.SIZE_PARAM[mpattern]}", "msize", 1, 4096, 8)
    cfg = load_model(MODEL).config
    with c3:
        layer = url_slider("Layer", "mlayer", 0, cfg.num_hidden_layers - 1, 5)
    with c4:
        head = url_slider("Head", "mhead", 0, cfg.num_attention_heads - 1, 0)
    eff, mnotes = model_effect(text, layer, head, mpattern, size)
    for note in mnotes:
        st.info(note, icon=":material/straighten:")
    show_figure(fx.mass_figure(eff.tokens, eff.mass_kept), "sparse-mass-kept",
                data=pd.DataFrame({"token": eff.tokens, "mass kept": eff.mass_kept}),
                summary=f"Layer {layer} head {head}: the pattern keeps {eff.mean_mass_kept:.1%} of the "
                        f"head's attention mass on average (lowest {min(eff.mass_kept):.1%}).")
    tokenizer = load_model(MODEL).tokenizer
    top = eff.probs_dense.topk(8).indices.tolist()
    labels = [tokenizer.decode([i]) for i in top]
    pd_, ps_ = eff.probs_dense[top].tolist(), eff.probs_sparse[top].tolist()
    show_figure(fx.next_token_figure(labels, pd_, ps_), "sparse-next-token",
                data=pd.DataFrame({"token": labels, "p dense": pd_, "p sparse": ps_}),
                summary=f"Top next token “{labels[0]}”: p = {pd_[0]:.3f} dense, {ps_[0]:.3f} with this head "
                        f"sparse; KL(dense‖sparse) = {eff.kl:.2e} nats.")
    st.caption("Computed without hooks: the layer is recomputed from its stored input with this head's "
               "softmax restricted to the kept keys (renormalised), then the later layers run unchanged.")
