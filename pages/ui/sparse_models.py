"""Sparse-attention tabs on what real models ship: Gemma 3's own local/global pattern, and
linearised attention against exact softmax. Maths: core.efficiency.on_model, core.efficiency.linear."""
from __future__ import annotations

import contextlib

import pandas as pd
import streamlit as st

from core.attention import heads as attention
from core.runtime import device
from core.runtime import limits
from core.runtime.adapters import GLOBAL, LOCAL
from core.efficiency import linear as linear_attention
from core.efficiency import on_model
from core.figures import attention as afx
from core.figures import basic
from core.figures import efficiency as fx
from core.figures import model_sparsity as msx
from pages.ui import show_figure, show_table, url_select, url_slider, url_toggle
from pages.ui.budget import expensive
from pages.ui.engine import load_model, run_model

@st.cache_data(max_entries=16, show_spinner="Comparing with exact softmax…")
def linear_errors(causal: bool, spread: float) -> list[dict]:
    return linear_attention.approximation_error(512, 64, causal=causal, spread=spread)


@st.cache_data(max_entries=4, show_spinner="Timing softmax and linear attention…")
def linear_times(causal: bool) -> list[dict]:
    return linear_attention.time_vs_length(causal=causal, repeat=5)


GEMMA = "gemma3-270m"
PATTERN_LENGTHS = [1024, 2048, 4096, 8192, 32768]
TEXT_LENGTHS = [768, 1024, 2048, 4096]


@st.cache_data(max_entries=8, show_spinner=False)
def gemma_pattern(n: int) -> on_model.ModelPattern:
    return on_model.model_pattern(GEMMA, n)


@st.cache_data(max_entries=8, show_spinner=False)
def gemma_text(n: int) -> str:
    return attention.corpus_text(GEMMA, n)


@st.cache_resource(max_entries=4, show_spinner="Recomputing both heads' attention from the stored hidden states…")
def gemma_band(text: str, local_layer: int, global_layer: int, head: int) -> on_model.BandHeads:
    return on_model.band_heads(run_model(GEMMA, text), local_layer, global_layer, head)


def gemma_tab() -> None:
    ad = load_model(GEMMA).adapter
    local_layers = [layer for layer in range(ad.n_layers) if ad.layer_type(layer) == LOCAL]
    global_layers = [layer for layer in range(ad.n_layers) if ad.layer_type(layer) == GLOBAL]
    window = ad.window(local_layers[0])
    st.write(f"Gemma 3 ships its sparsity: of its {ad.n_layers} layers, {len(local_layers)} are local "
             f"(each query sees its last {window:,} keys, itself included) and {len(global_layers)} global "
             f"(layers {', '.join(map(str, global_layers))}: full causal). The densities below are those of "
             "the masks the layers apply (the model's adapter), not a redrawn pattern.")
    n = url_select("Sequence length (tokens)", PATTERN_LENGTHS, "gn", 4096, format_func=lambda v: f"{v:,}")
    pat = gemma_pattern(n)
    kinds = pat.by_type().set_index("layer_type")
    local, glob = kinds.loc[LOCAL], kinds.loc[GLOBAL]
    headline = (f"At {n:,} tokens each local layer computes {local['share of causal pairs']:.1%} of the causal "
                f"pairs ({pat.table['keys per query (mean)'].iloc[local_layers[0]]:,.0f} keys per query on "
                f"average instead of {n * pat.dense_causal:,.1f}), each global layer all of them; over all "
                f"{ad.n_layers} layers the model computes {pat.saving:.1%} of what dense causal attention "
                f"in every layer would (density {pat.average:.2%} against {pat.dense_causal:.2%}).")
    st.markdown(headline)
    show_figure(msx.pattern_bars(pat.table, pat.dense_causal, pat.average, title=f"{GEMMA} at {n:,} tokens"),
                f"gemma-pattern-{n}", data=pat.table,
                summary=f"Bars: each layer's mask density at {n:,} tokens; dashed: dense causal; dotted: the "
                        f"model's mean over its {ad.n_layers} layers. The CSV holds the per-layer table.")
    show_table(pat.summary().round(6), f"gemma-pattern-types-{n}",
               summary=f"{int(local['layers'])} local and {int(glob['layers'])} global layers; density = pairs "
                       f"scored / {n:,}²; the model row is the mean over all {ad.n_layers} layers.")

    st.subheader("The band in the real weights")
    st.write("A real text (the Lee news corpus) through the model; one head's weights in a local layer "
             "and in a global layer, recomputed from the stored hidden states with each layer's own mask. "
             "Below the dashed line lies everything beyond the window.")
    c1, c2, c3, c4, c5 = st.columns(5)
    with c1:
        n_text = url_select("Text length (tokens)", TEXT_LENGTHS, "glen", 1024, format_func=lambda v: f"{v:,}",
                            help="Runs over 512 tokens count against the hosted demo's long-sequence budget"
                                 + (f" (which reads at most {limits.current().max_tokens:,} tokens)."
                                    if limits.hosted() else "."))
    with c2:
        local_layer = url_select("Local layer", local_layers, "glocal", 4)
    with c3:
        global_layer = url_select("Global layer", global_layers, "gglobal", global_layers[0])
    with c4:
        head = url_slider("Head", "ghead", 0, ad.layout.n_heads - 1, 0)
    with c5:
        log = url_toggle("Log colour scale", "glog", True)
    limits.check_tokens(n_text)                                     # refuse before spending budget
    text = gemma_text(n_text)
    runs = st.session_state.setdefault("sparse-gemma-runs", set())
    with st.spinner(f"Forward pass over {n_text:,} tokens (cached afterwards; tens of seconds on a small CPU)…"):
        with expensive("long-sequence") if n_text > 512 and n_text not in runs else contextlib.nullcontext():
            run_model(GEMMA, text)
    runs.add(n_text)
    band = gemma_band(text, local_layer, global_layer, head)
    rows = band.rows()
    pooled = afx.block_size(n_text)
    drawn = (f"Each pixel the largest weight in a {pooled}×{pooled} block" if pooled > 1
             else "One pixel per weight") + "; grey = exactly 0."
    left, right = st.columns(2)
    for col, layer, w, name in [(left, local_layer, band.local, "local"),
                                (right, global_layer, band.global_, "global")]:
        with col:
            show_figure(msx.band_head(w.numpy(), band.tokens, window, log=log,
                                      title=f"layer {layer}: {ad.layer_label(layer)}, head {head}"),
                        f"gemma-{name}-layer-{layer}-head-{head}", height=560, summary=drawn,
                        data=rows[["q_pos", "token", f"layer {layer} mass beyond window"]])
    st.markdown(f"On these {n_text:,} tokens, layer {local_layer}'s largest weight on any of the "
                f"{band.beyond_pairs:,} pairs {window:,} or more keys back is **{band.local_max_beyond}**"
                f"{' (exactly zero)' if band.local_max_beyond == 0 else ''}; layer {global_layer}'s last query "
                f"puts **{band.global_last_beyond:.1%}** of its attention there ({band.global_last_on_first:.1%} "
                f"on the first token alone; mean over the queries that have such keys: {band.global_mean_beyond:.1%}).")


def linear_tab() -> None:
    st.write("Replace exp(q·k) by φ(q)·φ(k) and the sums reorder: φ(Q)(φ(K)ᵀV) costs O(n) instead of O(n²). "
             "**elu+1** (Katharopoulos et al. 2020) is a different kernel, not an approximation; "
             "**Performer** random features (Choromanski et al. 2021) estimate the softmax kernel itself.")
    spread = url_slider("Query/key scale (sharper softmax →)", "spread", 0.1, 1.5, 0.5, step=0.1)
    causal = url_toggle("Causal (prefix sums)", "causal", False)
    err = pd.DataFrame(linear_errors(causal, spread))
    labels = [f"{r['feature map']} ({r['features']})" for _, r in err.iterrows()]
    show_figure(basic.bars(labels, err["weights relative error"], x_title="‖A − softmax‖ / ‖softmax‖"),
                "linear-error", data=err, summary=f"At scale {spread}, Performer with 1,024 features errs by "
                f"{err['weights relative error'].iloc[-1]:.2f}; elu+1 by {err['weights relative error'].iloc[0]:.2f}.")
    if st.button("Time linear vs softmax", icon=":material/timer:"):
        st.session_state["linear_timed"] = True
    if st.session_state.get("linear_timed"):
        t = pd.DataFrame(linear_times(causal))
        show_figure(fx.loglog(t["tokens"], {c: t[c] for c in t.columns[1:]}, x_title="sequence length (tokens)",
                              y_title="time (ms, median)"), "linear-time", data=t,
                    summary=f"At {t['tokens'].iloc[-1]:,} tokens: softmax {t.iloc[-1, 1]:.1f} ms, elu+1 "
                            f"{t.iloc[-1, 2]:.1f} ms, Performer {t.iloc[-1, 3]:.1f} ms (medians of 5 on "
                            f"{device.describe()}; noisy when the machine is shared).")
