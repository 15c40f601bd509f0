"""The embeddings page's live word2vec view: train gensim's word2vec on the bundled corpus or pasted
text (``core.text.word2vec``), then the same neighbours, analogy and map views as GloVe's."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.runtime import limits
from core.text import word2vec
from core.figures import basic
from pages.ui.budget import expensive
from pages.ui import guard, show_figure, url_select, url_slider, url_text
from pages.ui.embeddings_tabs import vector_views

W2V_WORDS = ("afghanistan", "taliban", "arafat", "sharon", "palestinian", "israeli", "minister", "prime",
             "police", "fire", "sydney", "australia")


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
