"""Text representation benchmarks: tokenization page warm rerun, GloVe neighbour/analogy queries,
t-SNE/UMAP maps of 500 words, word2vec and BPE training. Writes bench/results/text.md."""
from __future__ import annotations

import os
import pathlib
import time

from bench.common import md_table, median_time, write_report

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _row(what: str, seconds: float, target: float | None, note: str = "") -> dict:
    ok = "" if target is None else ("yes" if seconds <= target else "NO")
    return {"what": what, "median": f"{seconds * 1000:,.0f} ms", "target": f"≤ {target * 1000:,.0f} ms" if target else "",
            "met": ok, "note": note}


def main() -> pathlib.Path:
    from core.text import bpe
    from core.text import glove as E
    from core.text import word2vec as W
    from pages.ui.nav import by_url
    from tests.apptest_util import run_page

    rows = []
    t = time.perf_counter()
    at = run_page(by_url("tokenization"))
    cold = time.perf_counter() - t
    rerun, _ = median_time(lambda: at.run(), repeat=5)
    rows.append(_row("tokenization page, warm rerun (AppTest, defaults)", rerun, 0.300,
                     f"cold first run {cold:.1f} s (loads 7 tokenizers, trains 300 BPE merges)"))

    t = time.perf_counter()
    kv = E.glove()
    load = time.perf_counter() - t
    near, _ = median_time(lambda: E.nearest("king", 10), repeat=15)
    ana, _ = median_time(lambda: E.analogy(["king", "woman"], ["man"], 5), repeat=15)
    rows.append(_row("GloVe nearest(king, 10)", near, 0.300, f"GloVe load {load:.1f} s once"))
    rows.append(_row("GloVe analogy(king − man + woman)", ana, 0.300))

    words = kv.index_to_key[1000:1500]
    for method in ("pca", "tsne", "umap"):
        t = time.perf_counter()
        E.project(words, method)
        first = time.perf_counter() - t
        med, _ = median_time(lambda m=method: E.project(words, m), repeat=3, warmup=0)
        rows.append(_row(f"{method.upper()} map of 500 words", med, 5.0 if method != "pca" else None,
                         f"first call {first:.1f} s" + (" (includes numba compile)" if method == "umap" else "")))

    sents = W.sentences_from_text(W.bundled_text())
    w2v, _ = median_time(lambda: W.train(sents), repeat=3, warmup=0)
    rows.append(_row("word2vec skip-gram, defaults, lee_background (5 epochs)", w2v, 10.0))
    corpus = W.bundled_text()
    b, _ = median_time(lambda: bpe.train(corpus, bpe.BPEConfig(n_merges=300)), repeat=3, warmup=0)
    lib, _ = median_time(lambda: bpe.train_bytelevel(corpus, 300, "x"), repeat=3, warmup=0)
    rows.append(_row("BPE replay, 300 merges on lee_background (360k chars)", b, None,
                     f"`tokenizers` byte-level BPE on the same corpus: {lib:.2f} s ({b / lib:.1f}x faster)"))
    body = md_table(rows) + ("\n\nTargets from issue #3. Pure-Python BPE replay records every step; the Rust "
                             "`tokenizers` trainer is the speed reference.\n")
    return write_report("text", "Text representation: tokenization and embeddings", body)


if __name__ == "__main__":
    print(main())
