"""Attention maps: any head of a real model, interactive to 4,096 tokens; all-heads overview; bertviz."""
import contextlib

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core.attention import heads as attention
from core.attention import stats as attention_stats
from core.attention import bertviz_offline
from core.attention import defaults as head_defaults
from core.attention import sink as attention_sink
from core.runtime import limits
from core.figures import attention as figs
from pages.ui import guard, model_picker, show_figure, show_table, url_select, url_slider, url_text, url_toggle
from pages.ui.budget import expensive
from pages.ui.engine import load_model, memo_with_progress, run_model
from pages.ui.tokens import show_pills

SOURCES = {"your text": None, "Lee news corpus, 16 tokens": 16, "Lee news corpus, 512 tokens": 512,
           "Lee news corpus, 4,096 tokens": 4096}
DEFAULT_TEXT = "The cat sat on the mat because it was tired. Then the cat slept."


@st.cache_resource(max_entries=4, show_spinner="Computing this head's full attention map…")
def head_map(name: str, text: str, layer: int, head: int) -> np.ndarray:
    return attention.head_weights(run_model(name, text), layer, head).cpu().numpy()


def head_overview(name: str, text: str) -> attention_stats.HeadOverview:
    res = run_model(name, text)
    return memo_with_progress("head-overview", (name, text),
                              lambda progress: attention_stats.overview(res, progress=progress),
                              label="Per-head statistics:")


@st.cache_resource(max_entries=2, show_spinner="Attention rollout through every layer…")
def rollout(name: str, text: str) -> np.ndarray:
    return attention_stats.rollout(run_model(name, text))


@st.cache_data(max_entries=4, show_spinner="Building the bertviz view…")
def bertviz_embed(name: str, text: str, view: str, layer: int) -> bertviz_offline.Embed:
    return bertviz_offline.embed(run_model(name, text), view, layer)


st.title("Attention maps")
st.write("Every weight below is recomputed from a real forward pass: the hidden state entering a layer, "
         "that layer's own norm, query/key projections, RoPE and mask (causal, sliding-window or none) and a "
         "softmax, one head at a time, so a 4,096-token input never holds all layers × heads × T² weights.")
c1, c2 = st.columns(2)
with c1:
    name = model_picker("model")
with c2:
    source = url_select("Input", list(SOURCES), "input", help="The Lee corpus (gensim's lee_background.cor, "
                        "Australian news) gives long real text; the first whole tokens are used.")
text = (url_text("Text", "attn_text", DEFAULT_TEXT, area=True,
                 help=f"Up to {limits.current().max_text_chars:,} characters and "
                      f"{limits.current().max_tokens:,} tokens.")
        if SOURCES[source] is None else attention.corpus_text(name, SOURCES[source]))

res = None
with guard("the attention maps"):
    n = attention.check_context(name, text)
    cfg = load_model(name).config
    with st.spinner(f"Forward pass over {n:,} tokens (cached afterwards; a 4,096-token pass takes "
                    "tens of seconds on a small CPU)…"):
        with expensive("long-sequence") if n > 512 else contextlib.nullcontext():
            res = run_model(name, text)
    toks = res.tokens
    with st.expander(f"{n:,} tokens", expanded=n <= 64):
        show_pills(toks, res.ids, res.spans, limit=512)

    shp = attention.head_shape(cfg)
    layer0, head0 = head_defaults.previous_token_head(name, res.n_layers, shp["n_heads"])
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        layer = url_slider("Layer", "attn_layer", 0, res.n_layers - 1, layer0,
                           help=f"Opens on layer {layer0} head {head0}, a previous-token head measured on this model.")
    with c2:
        head = url_slider("Head", "attn_head", 0, shp["n_heads"] - 1, head0)
    with c3:
        query = url_slider("Query token", "query", 0, n - 1, n - 1)
    with c4:
        log = url_toggle("Log colour scale", "log", n > figs.FULL_RES)
    gqa = (f" It reads KV head {attention.kv_head_of(cfg, head)} (GQA: {shp['n_heads']} query heads share "
           f"{shp['n_kv_heads']} key/value heads)." if shp["group"] > 1 else "")
    kind = res.adapter.layer_label(layer)
    st.header(f"Layer {layer} · {kind} · head {head}")
    w = head_map(name, text, layer, head)
    win = res.adapter.window(layer)
    band = (f" Layer {layer} is local: each query sees its last {win:,} keys, itself included; the largest "
            f"weight outside that band is {float(w[~attention.mask_for(res, layer).cpu().numpy()].max(initial=0)):g}."
            if win else (" This layer is global: every earlier key is visible." if any(
                res.adapter.window(i) for i in range(res.n_layers)) else ""))
    size = min(64, n)
    q0 = int(np.clip(query - size // 2, 0, n - size))
    k0 = q0 if res.causal else int(np.clip(query - size // 2, 0, n - size))
    sink, prev = w[:, 0].mean(), (np.diag(w, -1).mean() if n > 1 else 0.0)
    long_input = n > figs.FULL_RES
    show_figure(figs.head_heatmap(w, toks, log=log, window=(q0, k0, size) if long_input else None),
                "attention-head", data=pd.DataFrame(w[q0:q0 + size, k0:k0 + size],
                                                    index=figs.labels(toks[q0:q0 + size], q0),
                                                    columns=figs.labels(toks[k0:k0 + size], k0)).reset_index(),
                summary=f"Layer {layer} head {head} puts on average {sink:.0%} of its attention on the first "
                        f"token and {prev:.0%} on the previous token.{gqa}{band}"
                        + ((f" Sent as an image, each pixel the largest weight in a {figs.block_size(n)}×"
                            f"{figs.block_size(n)} block" if figs.block_size(n) > 1 else " Sent as an image, one "
                            "pixel per weight") + ". The CSV holds the outlined window." if long_input else "")
                + " Light grey = a weight of exactly 0: a key this query may not see (masked), drawn so at every length.")
    prof = attention_sink.profile(res)
    with st.expander("Why so many heads stare at the first token: the attention sink", expanded=sink > 0.3):
        st.markdown(f"This head puts {sink:.0%} of its weight on the first token “{toks[0]}” on average. Many "
                "heads put far more there, whatever that token says (rank them by “attention on the first token” "
                "in the overview below). Softmax rows must sum to 1, so a head with nothing to find parks its "
                "weight on a token every query can see (Xiao et al. 2023, *Efficient Streaming Language Models with "
                "Attention Sinks*, arXiv:2309.17453). Behind it is a *massive activation*: the residual stream of "
                f"token 0 reaches a norm of {prof.peak_norm:,.0f} entering layer {prof.peak_layer}, "
                f"{prof.ratio:,.0f}× the other tokens' median {prof.others_median:,.0f} (Sun et al. 2024, *Massive "
                "Activations in Large Language Models*, arXiv:2402.17762). Layer "
                f"{layer0} head {head0} shows a head with a job instead: the previous token.")
        st.caption("Encoders have their own version: BERT-style heads park weight on [CLS] and [SEP] "
                   "(Clark et al. 2019, *What Does BERT Look At?*).")
    if long_input:
        st.subheader(f"Full resolution: queries {q0}–{q0 + size - 1}, keys {k0}–{k0 + size - 1}")
        show_figure(figs.window_heatmap(w[q0:q0 + size, k0:k0 + size], toks, q0, k0, log=log),
                    "attention-window", data=pd.DataFrame(w[q0:q0 + size, k0:k0 + size]),
                    summary=f"Every weight of the {size}×{size} window around query {query} (outlined above).")
    top = int(w[query].argmax())
    visible = attention.mask_for(res, layer, torch.tensor([query]))[0].cpu().numpy()
    show_figure(figs.row_bars(w[query], toks, query, visible=visible), "attention-query-row",
                data=pd.DataFrame({"key": range(n), "token": toks, "weight": w[query], "visible": visible}),
                summary=f"Query {query} “{toks[query]}” sends {w[query, top]:.0%} of its attention to "
                        f"key {top} “{toks[top]}”; the orange bar (if shown) is the previous token. Only the "
                        f"{int(visible.sum()):,} keys this query can see are ranked.")

if res is None:           # the input was refused above, with its message
    st.stop()
st.header("All heads at a glance")
with guard("the all-heads overview"):
    ov = head_overview(name, text)
    stat = url_select("Statistic", list(attention_stats.STATS), "stat", "sink_mass",
                      format_func=attention_stats.STATS.get)
    rows_note = (f"{len(ov.rows)} evenly spaced query rows of {n:,} (exact rows; means are estimates)"
                 if ov.sampled else f"all {n:,} query rows")
    best = ov.table.loc[ov.table[stat].idxmax()]
    show_figure(figs.thumbnails(ov.thumbnails, ov.table, stat), "attention-thumbnails", data=ov.table,
                summary=f"{len(ov.table)} heads; each tile shows {len(ov.thumb_rows)} sampled query rows × "
                        f"{ov.thumbnails.shape[-1]} key bins (weights summed per bin, tile scaled to its own "
                        "maximum). Hover a tile for its statistics.")
    show_figure(figs.stat_grid(ov.table, stat, attention_stats.STATS[stat]), "attention-head-stats",
                data=ov.table, summary=f"Highest {attention_stats.STATS[stat]}: layer {int(best.layer)} head "
                                       f"{int(best['head'])} ({best[stat]:.3f}); from {rows_note}.")
    show_table(ov.table.round(4), "attention-head-stats-table")

st.header("Attention rollout (Abnar & Zuidema, 2020)")
st.caption("Mixes every layer's head-averaged attention with the residual path (½·A + ½·I, renormalised) "
           "and multiplies through the layers: how much each input token feeds each final position.")
with guard("the rollout"):
    roll = rollout(name, text)
    share0 = float(roll[query, 0])
    discount = url_toggle("Discount the sink (token 0)", "roll_sink", res.causal and n > 2, help=(
        "Drop token 0's column and renormalise each row: where the rest of the input flow goes."))
    shown = attention_sink.discount_first(roll) if discount else roll
    top = int(shown[query].argmax())
    show_figure(figs.head_heatmap(shown, toks, log=True, title="rollout (log colour)"
                                  + (", token 0 discounted" if discount else "")), "attention-rollout",
                data=pd.DataFrame({"key": range(n), "token": toks, "rollout": roll[query], "shown": shown[query]}),
                summary=f"Raw rollout traces {share0:.0%} of position {query}'s input to token 0: most heads park "
                        "attention on the first token (the sink above), and rollout multiplies that through every "
                        "layer, a known limit of the method. "
                        + (f"With token 0 discounted, the largest share of the rest, {shown[query, top]:.0%}, comes "
                           f"from token {top} “{toks[top]}”." if discount else
                           f"Its largest source is token {top} “{toks[top]}” ({shown[query, top]:.0%})."))

st.header("bertviz, offline")
view = url_select("bertviz view", ["off", "head", "model"], "bertviz", "off", radio=True,
                  help="bertviz's own head and model views, with its JavaScript served from this app.")
if view != "off":
    with guard("the bertviz view"):
        emb = bertviz_embed(name, text, view, layer)
        st.iframe(emb.html, height=900 if view == "model" else min(1200, 24 * n + 120))
        st.caption(f"{emb.n_bytes / 1e6:.1f} MB of HTML for layers {emb.layers[0]}–{emb.layers[-1]} "
                   f"(weights rounded to 3 decimals). Capped at {limits.current().bertviz_max_tokens} tokens: "
                   "bertviz sends every weight as text and draws each as an SVG line.")
