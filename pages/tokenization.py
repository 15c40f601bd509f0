"""Tokenization: seven real tokenizers side by side, how each treats odd input, and BPE replayed."""
import pandas as pd
import streamlit as st

from core.text import bpe
from core.runtime import limits
from core.text import tokenizers
from core.text import word2vec
from core.runtime.errors import InputError
from core.figures import text as figs
from pages.ui.state import session_key
from pages.ui import guard, show_figure, show_table, url_select, url_slider, url_text
from core.text import token_labels
from pages.ui.tokens import show_pills

PRESETS = {
    "English prose": "The quick brown fox jumps over the lazy dog. Tokenizers split text into pieces.",
    "Code": "def add(a, b):\n    return a + b  # sum\n\nprint(add(2, 40))",
    "Numbers": "In 2024 the price rose from 1,234.56 to 98765.4321 (a 7.5% increase).",
    "German compounds": "Donaudampfschifffahrtsgesellschaftskapitän und Rindfleischetikettierungsüberwachung",
    "Chinese": "自然语言处理是人工智能的一个重要领域。",
    "Emoji": "I love pizza 🍕🍕! Family: 👨‍👩‍👧 Flags: 🇩🇪🇯🇵 Smile 🙂",
    "URL": "https://example.com/search?q=transformer+atlas&lang=en#results",
}
CAP = limits.current()


@st.cache_data(max_entries=32, show_spinner="Tokenizing with seven tokenizers…")
def compare(text: str) -> list[dict]:
    return bpe.compare(text)


@st.cache_data(max_entries=1, show_spinner="Probing each tokenizer…")
def probes() -> pd.DataFrame:
    return pd.DataFrame([{"tokenizer": tokenizers.info(n).label, **bpe.probe(n)} for n in tokenizers.available()])


@st.cache_data(max_entries=8, show_spinner="Training BPE merges…")
def replay(corpus: str, n_merges: int) -> bpe.BPEReplay:
    return bpe.train(corpus, bpe.BPEConfig(n_merges=n_merges))


@st.cache_data(max_entries=8, show_spinner="Training the `tokenizers` byte-level BPE…")
def library(corpus: str, n_merges: int, sentence: str) -> bpe.LibraryBPE:
    return bpe.train_bytelevel(corpus, n_merges, sentence)


st.title("Tokenization")
st.write("Text becomes integer ids before a transformer sees it. Below, your text goes through seven "
         "real tokenizers at once; ids come from each tokenizer's own library.")
preset = url_select("Preset text", list(PRESETS), "preset", "English prose")
if st.session_state.get("tok-last-preset", preset) != preset:
    st.session_state[session_key("text")] = PRESETS[preset]
st.session_state["tok-last-preset"] = preset
text = url_text("Your text", "text", PRESETS[preset], area=True, height=100,
                help=f"Up to {CAP.max_text_chars:,} characters; longer text is refused, never cut.")

with guard("the tokenizer comparison"):
    limits.check_text(text)
    rows = compare(text)
    labels = [r["label"] for r in rows]
    lo, hi = min(r["n_tokens"] for r in rows), max(r["n_tokens"] for r in rows)
    show_figure(figs.token_counts(labels, [r["n_tokens"] for r in rows], [r["chars_per_token"] for r in rows]),
                "tokenization-counts",
                data=pd.DataFrame({"tokenizer": labels, "tokens": [r["n_tokens"] for r in rows],
                                   "chars_per_token": [r["chars_per_token"] for r in rows]}),
                summary=f"{len(text)} characters: fewest tokens ({lo}) with {', '.join(r['label'] for r in rows if r['n_tokens'] == lo)}; "
                        f"most ({hi}) with {', '.join(r['label'] for r in rows if r['n_tokens'] == hi)}.")
    for r in rows:
        t, inf = r["tokenization"], tokenizers.info(r["name"])
        st.markdown(f"**{r['label']}** · {inf.algorithm} · {t.n_tokens} tokens · "
                    f"{t.chars_per_token:.2f} chars/token")
        show_pills(t.tokens, t.ids, t.spans, pieces=t.pieces)
    st.caption("Hover a pill for its id and character span. · is a space, ↵ a newline, ⟨0xE6⟩ a byte of a "
               "character split across tokens.")

    name = url_select("Token table for", tokenizers.available(), "table", "gpt2",
                      format_func=lambda n: tokenizers.info(n).label)
    t = next(r["tokenization"] for r in rows if r["name"] == name)
    show_table(pd.DataFrame({"#": range(t.n_tokens), "id": t.ids, "piece": t.pieces,
                             "text": token_labels.labels(t.tokens, pieces=t.pieces),
                             "start": [a for a, _ in t.spans], "end": [b for _, b in t.spans],
                             "text[start:end]": [text[a:b] for a, b in t.spans]}),
               f"tokens-{name}", summary=f"{tokenizers.info(name).label}: ids from {tokenizers.info(name).library}; "
                                         f"vocabulary from {tokenizers.info(name).source}.")

    st.header("Round trip: ids → text → ids")
    show_table(pd.DataFrame([{"tokenizer": r["label"], "decode(encode(x)) == x": r["round_trip"]["text_equal"],
                              "ids equal after re-encoding": r["round_trip"]["ids_equal"],
                              "guaranteed lossless": r["round_trip"]["guaranteed"],
                              "decoded text": r["round_trip"]["decoded"][:200]} for r in rows]),
               "round-trip", summary=f"{sum(r['round_trip']['text_equal'] for r in rows)} of 7 give back exactly your "
                                     "text; not here: " + (", ".join(r["label"] for r in rows if not r["round_trip"]["text_equal"])
                                                           or "none") + ". Only byte-level BPEs guarantee it.")

st.header("How each tokenizer treats spaces, case, digits, emoji and unknown characters")
with guard("the tokenizer probes"):
    df = probes()
    show_table(df, "tokenizer-behaviour", summary="Found by tokenizing small probe strings "
               f"({', '.join(repr(v) for v in bpe.PROBES.values())}), not written by hand.")

st.header("Byte Pair Encoding, replayed merge by merge")
st.write("BPE (Sennrich et al. 2016) spells every word as characters plus an end-of-word mark `</w>`, then "
         "repeatedly merges the most frequent adjacent pair. Ties go to the alphabetically first pair.")
source = url_select("Training corpus", ["bundled", "yours"], "corpus", "bundled", radio=True,
                    format_func=lambda s: {"bundled": "gensim lee_background (300 news stories, 360k chars)",
                                           "yours": "your text above"}[s])
c1, c2 = st.columns(2)
with c1:
    n_merges = url_slider("Merges to learn", "merges", 10, bpe.max_merges(), 300, step=10)
with c2:
    sentence = url_text("Sentence to re-segment", "sentence", "The government announced new measures yesterday.")
st.caption(f"Corpus cap: {CAP.max_corpus_chars:,} characters; at most {bpe.max_merges():,} merges"
           f"{' (hosted mode)' if limits.hosted() else ''}. Larger corpora are refused, not cut.")

with guard("the BPE replay"):
    corpus = word2vec.bundled_text() if source == "bundled" else text
    rep = replay(corpus, n_merges)
    n = len(rep.steps)
    if n == 0:
        raise InputError("No pair occurs in this corpus (every word is one character). Use a longer text.")
    (st.caption if n == n_merges else st.info)(rep.stop_reason)
    b1, b2, _ = st.columns([2, 2, 5])
    b1.button("◀ previous", on_click=lambda: st.session_state.update({session_key("step"): max(1, st.session_state[session_key("step")] - 1)}))
    b2.button("next ▶", on_click=lambda: st.session_state.update({session_key("step"): min(n, st.session_state[session_key("step")] + 1)}))
    step = url_slider("Merge step", "step", 1, n, n)
    s = rep.steps[step - 1]
    c = st.columns(4)
    c[0].metric("Merged pair", f"{s.pair[0]} + {s.pair[1]}")
    c[1].metric("Count in corpus", f"{s.count:,}")
    c[2].metric("Vocabulary", f"{s.vocab_size:,}", f"+{step} merges", delta_color="off",
                help=f"{len(rep.alphabet)} base symbols (characters and </w>) plus one per merge")
    c[3].metric("Corpus length (symbols)", f"{s.corpus_symbols:,}",
                f"{s.corpus_symbols / rep.initial_symbols - 1:.0%}", delta_color="off")
    seg = bpe.segment(sentence, rep.merges[:step])
    st.markdown(f"**Your sentence after {step} merges** ({len(seg)} symbols):")
    show_pills(seg, list(range(len(seg))))
    steps = [x.step for x in rep.steps]
    show_figure(figs.bpe_progress(steps, [x.count for x in rep.steps], [x.corpus_symbols for x in rep.steps],
                                  [x.vocab_size for x in rep.steps], step), "bpe-progress",
                data=pd.DataFrame([vars(x) for x in rep.steps]),
                summary=f"{rep.n_words:,} words ({rep.n_unique_words:,} distinct): merge 1 joined {rep.steps[0].count:,} pairs, "
                        f"merge {n} only {rep.steps[-1].count:,}; the corpus shrank from {rep.initial_symbols:,} "
                        f"to {rep.steps[-1].corpus_symbols:,} symbols.")
    lib = library(corpus, n, sentence)
    st.subheader("Against the `tokenizers` library's byte-level BPE, same corpus, same number of merges")
    st.markdown(f"**`tokenizers` ByteLevel BPE** ({len(lib.segments)} pieces; Ġ marks a leading space "
                "instead of a `</w>` ending):")
    show_pills(lib.segments, list(range(len(lib.segments))))
    k = min(25, n, len(lib.merges))
    show_table(pd.DataFrame({"step": range(1, k + 1), "ours (</w>)": [" + ".join(p) for p in rep.merges[:k]],
                             "tokenizers (byte-level)": [" + ".join(p) for p in lib.merges[:k]]}),
               "bpe-vs-tokenizers", summary=f"First {k} merges side by side; {len(lib.merges)} learned by "
                                            f"`tokenizers` (vocabulary {lib.vocab_size:,} = 256 bytes + merges).")
