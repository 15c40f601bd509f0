"""BPE replay: merge order on Sennrich's toy corpus worked by hand, the incremental counter against
seed 002's recount-everything loop, and the `tokenizers` library on the same corpus."""
from collections import Counter

import pytest

from core.text import bpe
from core.text import word2vec
from core.runtime.errors import InputError

# low x5, lower x2, newest x6, widest x3 (Sennrich et al. 2016, Fig. 1)
TOY = " ".join(["low"] * 5 + ["lower"] * 2 + ["newest"] * 6 + ["widest"] * 3)


def test_merge_order_worked_by_hand():
    # Counts with </w>: e s = s t = t </w> = 9 (newest 6 + widest 3), tie -> alphabetical (e, s).
    # Then (es, t) 9 < tie with (t, </w>) 9 -> "es" < "t"; then (est, </w>) 9.
    # Then l o = o w = 7 -> (l, o), (lo, w); then e w = n e = w est</w> = 6 -> (e, w) first,
    # then (ew, est</w>) 6 before (n, ew) 6; then (n, ewest</w>) 6; then (low, </w>) 5.
    rep = bpe.train(TOY, bpe.BPEConfig(n_merges=9))
    assert rep.merges == [("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w"),
                          ("e", "w"), ("ew", "est</w>"), ("n", "ewest</w>"), ("low", "</w>")]
    assert [s.count for s in rep.steps] == [9, 9, 9, 7, 7, 6, 6, 6, 5]
    assert rep.initial_symbols == 5 * 4 + 2 * 6 + 6 * 7 + 3 * 7
    assert rep.steps[-1].vocab_size == len(rep.alphabet) + 9
    assert bpe.segment("newest lowest", rep.merges) == ["newest</w>", "low", "est</w>"]
    work = bpe.encode_and_show_work("lowest", rep.merges)
    assert work[0]["parts"] == ["l", "o", "w", "e", "s", "t", "</w>"]
    assert work[-1]["parts"] == ["low", "est</w>"] and [w["step"] for w in work] == [0, 1, 2, 3, 4, 5]


def _recount(corpus: str, config: bpe.BPEConfig) -> list[tuple]:
    """Seed 002's loop: recount every pair of every word at each step, ties broken alphabetically as
    ours. Returns each step as (pair, count, new symbol, vocabulary size, corpus symbols)."""
    text = corpus.lower() if config.lowercase else corpus
    end = (config.end_of_word,) if config.end_of_word else ()
    vocab = Counter(tuple(w) + end for w in text.split())
    alphabet = {s for w in vocab for s in w}
    steps = []
    for step in range(1, config.n_merges + 1):
        pairs = Counter()
        for symbols, count in vocab.items():
            for i in range(len(symbols) - 1):
                pairs[symbols[i], symbols[i + 1]] += count
        if not pairs:
            break
        top = max(pairs.values())
        best = min(p for p, c in pairs.items() if c == top)
        merged = Counter()
        for symbols, count in vocab.items():
            merged[bpe._merge_word(symbols, best)] += count
        vocab = merged
        steps.append((best, top, best[0] + best[1], len(alphabet) + step,
                      sum(len(s) * c for s, c in vocab.items())))
    return steps


def _steps(corpus: str, config: bpe.BPEConfig) -> list[tuple]:
    rep = bpe.train(corpus, config)
    assert [s.step for s in rep.steps] == list(range(1, len(rep.steps) + 1))
    return [(s.pair, s.count, s.new_symbol, s.vocab_size, s.corpus_symbols) for s in rep.steps]


def _random_corpus(seed: int) -> str:
    """Words over a 2-4 letter alphabet: many tied counts, runs such as "aaaa", repeated pairs."""
    import random
    rng = random.Random(seed)
    letters = "abcd"[:rng.randint(2, 4)]
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(1, 9)))
                    for _ in range(rng.randint(1, 60)))


BYTES = "naïve café, Ünïcödé 日本語 🙂🙂".encode("utf-8").decode("latin-1")   # UTF-8 bytes, one char each
CORPORA = {
    "runs": "aaaa aaa aaaaa a aa aaaaaaa abab ababab aabaab baaab",
    "ties": "ab ba ab ba cd dc cd dc ef fe",
    "unicode": "naïve café naïve 🙂🙂🙂 🙂🙂 日本語 日本 日本 𓀀𓀀 ÜNÏCÖDÉ ünïcödé",
    "bytes": BYTES + " " + BYTES[::-1] + " " + BYTES,
    "marker lookalike": "x</w> </w></w> <</w>> w> </ x</w>",
    "lee": word2vec.bundled_text()[:20_000],
}


@pytest.mark.parametrize("name", sorted(CORPORA))
@pytest.mark.parametrize("config", [bpe.BPEConfig(n_merges=150), bpe.BPEConfig(n_merges=150, end_of_word=None),
                                    bpe.BPEConfig(n_merges=150, lowercase=True)], ids=["eow", "no-eow", "lower"])
def test_every_step_equals_a_full_recount(name, config):
    """Pair, count, new symbol, vocabulary and corpus size at every step: the position-level
    incremental replay against recounting everything, until the merges or the pairs run out."""
    expected = _recount(CORPORA[name], config)
    assert _steps(CORPORA[name], config) == expected
    assert expected and (len(expected) == 150 or name != "lee")


@pytest.mark.parametrize("seed", range(40))
def test_every_step_equals_a_full_recount_on_random_small_alphabets(seed):
    config = bpe.BPEConfig(n_merges=200, end_of_word=bpe.END if seed % 2 else None)
    corpus = _random_corpus(seed)
    assert _steps(corpus, config) == _recount(corpus, config)


def test_runs_of_one_letter_count_overlapping_pairs():
    # "aaaa" holds (a, a) three times; merging leaves "aa aa", which holds (aa, aa) once.
    rep = bpe.train("aaaa", bpe.BPEConfig(n_merges=5, end_of_word=None))
    assert [(s.pair, s.count, s.corpus_symbols) for s in rep.steps] == [(("a", "a"), 3, 2), (("aa", "aa"), 1, 1)]


def test_same_merges_as_tokenizers_library_until_a_tie():
    corpus = word2vec.bundled_text()[:60_000]
    ours = bpe.train(corpus, bpe.BPEConfig(n_merges=120, end_of_word=None))
    lib = bpe.train_whitespace(corpus, 120)
    counts = [s.count for s in ours.steps]
    first_tie = next(i for i in range(len(counts) - 1) if counts[i] == counts[i + 1])
    assert first_tie > 10
    assert ours.merges[:first_tie] == lib[:first_tie]
    assert len(set(ours.merges) & set(lib)) > 0.9 * len(lib)      # after ties: same pairs, other order


def test_bytelevel_library_bpe_on_same_corpus():
    sentence = "The government announced new measures."
    lib = bpe.train_bytelevel(word2vec.bundled_text()[:50_000], 100, sentence)
    assert lib.vocab_size <= 256 + 100 and len(lib.merges) == lib.vocab_size - 256
    assert "".join(lib.segments).replace("Ġ", " ") == sentence


def test_bad_corpora(monkeypatch):
    with pytest.raises(InputError, match="empty"):
        bpe.train("   \n ")
    with pytest.raises(InputError, match="1–"):
        bpe.train("abc abd", bpe.BPEConfig(n_merges=0))
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    with pytest.raises(InputError, match="200,000"):
        bpe.train("ab " * 70_000)
    assert len(bpe.train("a b c", bpe.BPEConfig(n_merges=5)).steps) == 3   # pairs run out: stops early
