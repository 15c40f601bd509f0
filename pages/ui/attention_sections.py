"""The attention page's sections after the one-head map: the attention-sink note, every head at a
glance, rollout, and bertviz. Each: widgets -> one core call -> one figure builder -> render."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.attention import bertviz_offline
from core.attention import sink as attention_sink
from core.attention import stats as attention_stats
from core.figures import attention as figs
from core.runtime import limits
from pages.ui import guard, show_figure, show_table, url_select, url_toggle
from pages.ui.engine import memo_with_progress, run_model


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


def sink_note(res, sink: float, previous_head: tuple[int, int]) -> None:
    """Why heads stare at token 0, with this input's massive activation; opens when this head does."""
    prof, toks = attention_sink.profile(res), res.tokens
    with st.expander("Why so many heads stare at the first token: the attention sink", expanded=sink > 0.3):
        st.markdown(f"This head puts {sink:.0%} of its weight on the first token “{toks[0]}” on average. Many "
                    "heads put far more there, whatever that token says (rank them by “attention on the first "
                    "token” in the overview below). Softmax rows must sum to 1, so a head with nothing to find "
                    "parks its weight on a token every query can see (Xiao et al. 2023, *Efficient Streaming "
                    "Language Models with Attention Sinks*, arXiv:2309.17453). Behind it is a *massive "
                    f"activation*: the residual stream of token 0 reaches a norm of {prof.peak_norm:,.0f} entering "
                    f"layer {prof.peak_layer}, {prof.ratio:,.0f}× the other tokens' median "
                    f"{prof.others_median:,.0f} (Sun et al. 2024, *Massive Activations in Large Language Models*, "
                    f"arXiv:2402.17762). Layer {previous_head[0]} head {previous_head[1]} shows a head with a job "
                    "instead: the previous token.")
        st.caption("Encoders have their own version: BERT-style heads park weight on [CLS] and [SEP] "
                   "(Clark et al. 2019, *What Does BERT Look At?*).")


def overview(name: str, text: str, n: int) -> None:
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


def rollout_section(name: str, text: str, res, query: int) -> None:
    n, toks = len(res.tokens), res.tokens
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
                    summary=f"Raw rollout traces {share0:.0%} of position {query}'s input to token 0: most heads "
                            "park attention on the first token (the sink above), and rollout multiplies that "
                            "through every layer, a known limit of the method. "
                            + (f"With token 0 discounted, the largest share of the rest, {shown[query, top]:.0%}, "
                               f"comes from token {top} “{toks[top]}”." if discount else
                               f"Its largest source is token {top} “{toks[top]}” ({shown[query, top]:.0%})."))


def bertviz_section(name: str, text: str, n: int, layer: int) -> None:
    st.header("bertviz, offline")
    view = url_select("bertviz view", ["off", "head", "model"], "bertviz", "off", radio=True,
                      help="bertviz's own head and model views, with its JavaScript served from this app.")
    if view == "off":
        return
    with guard("the bertviz view"):
        emb = bertviz_embed(name, text, view, layer)
        st.iframe(emb.html, height=900 if view == "model" else min(1200, 24 * n + 120))
        st.caption(f"{emb.n_bytes / 1e6:.1f} MB of HTML for layers {emb.layers[0]}–{emb.layers[-1]} "
                   f"(weights rounded to 3 decimals). Capped at {limits.current().bertviz_max_tokens} tokens: "
                   "bertviz sends every weight as text and draws each as an SVG line.")
