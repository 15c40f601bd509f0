"""Attention maps: any head of a real model, interactive to 4,096 tokens; all-heads overview; bertviz."""
import contextlib

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core.attention import heads as attention
from core.attention import defaults as head_defaults
from core.runtime import limits
from core.figures import attention as figs
from pages.ui import guard, model_picker, show_figure, url_select, url_slider, url_text, url_toggle
from pages.ui import attention_sections as sections
from pages.ui.budget import expensive
from pages.ui.engine import load_model, run_model
from pages.ui.tokens import show_pills

SOURCES = {"your text": None, "Lee news corpus, 16 tokens": 16, "Lee news corpus, 512 tokens": 512,
           "Lee news corpus, 4,096 tokens": 4096}
DEFAULT_TEXT = "The cat sat on the mat because it was tired. Then the cat slept."


@st.cache_resource(max_entries=4, show_spinner="Computing this head's full attention map…")
def head_map(name: str, text: str, layer: int, head: int) -> np.ndarray:
    return attention.head_weights(run_model(name, text), layer, head).cpu().numpy()


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
    sections.sink_note(res, sink, (layer0, head0))
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
sections.overview(name, text, n)
sections.rollout_section(name, text, res, query)
sections.bertviz_section(name, text, n, layer)
