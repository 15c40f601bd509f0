"""Byte Pair Encoding training, replayed merge by merge (Sennrich et al. 2016), and probes of how
the registered tokenizers treat spaces, case, digits, emoji and unknown characters.

``train(corpus, config)`` follows seed 002's algorithm: split on whitespace, spell every word as
characters plus an end-of-word symbol ``</w>``, then repeatedly merge the most frequent adjacent
pair. It returns every step as data (like minGPT's ``encode_and_show_work``) instead of only the
final merge table. Pair counts are updated incrementally at the level of positions, as in
Sennrich's reference code (subword-nmt's ``update_pair_statistics``): a merge visits only the
words an index lists for its pair, and in each only the pairs beside the occurrences; the most
frequent pair comes off a heap. Every recorded step (pair, count, new symbol, vocabulary and corpus
size) equals recounting everything at each step (``tests/test_bpe.py``); ``bench/bench_speed.py``
times the replay against Hugging Face `tokenizers`' Rust trainer on the same corpus.

Ties: the seed's code takes whichever tied pair it happened to count first; here ties go to the
lexicographically smallest pair, so a replay is reproducible from the corpus alone.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass

from core.runtime import limits
from core.text import tokenizers
from core.runtime.errors import InputError

END = "</w>"


@dataclass(frozen=True)
class BPEConfig:
    n_merges: int = 300
    end_of_word: str | None = END     # None: no word-end symbol (what `tokenizers`' BPE does)
    lowercase: bool = False


PRESETS = {"seed-002": BPEConfig(), "no-end-marker": BPEConfig(end_of_word=None)}
MAX_MERGES = {"local": 2000, "hosted": 500}


@dataclass(frozen=True)
class MergeStep:
    step: int                  # 1-based
    pair: tuple[str, str]
    count: int                 # occurrences of the pair in the corpus when it was merged
    new_symbol: str
    vocab_size: int            # base symbols + merges so far
    corpus_symbols: int        # total symbols in the corpus after this merge


@dataclass(frozen=True)
class BPEReplay:
    config: BPEConfig
    n_chars: int
    n_words: int               # running words
    n_unique_words: int
    alphabet: list[str]        # base symbols (characters, plus </w>)
    initial_symbols: int       # corpus length in base symbols
    steps: list[MergeStep]

    @property
    def merges(self) -> list[tuple[str, str]]:
        return [s.pair for s in self.steps]

    @property
    def stop_reason(self) -> str:
        """Why training ended: the requested merges were learned, or no adjacent pair was left."""
        n = len(self.steps)
        if n >= self.config.n_merges:
            return f"Learned the {n:,} merges asked for."
        return (f"Stopped after {n:,} of the {self.config.n_merges:,} merges asked for: no adjacent pair is "
                f"left. Each of the {self.n_unique_words:,} distinct words is now a single symbol, so merging "
                "cannot go on; a longer text with more distinct words allows more merges.")


def max_merges() -> int:
    return MAX_MERGES["hosted" if limits.hosted() else "local"]


def check_corpus(corpus: str) -> str:
    """Refuse an empty corpus or one over the cap (``limits.current().max_corpus_chars``)."""
    cap = limits.current().max_corpus_chars
    if not corpus or not corpus.strip():
        raise InputError("The training corpus is empty. Paste some text or pick the bundled corpus.")
    if len(corpus) > cap:
        raise InputError(f"The corpus has {len(corpus):,} characters; the training cap is {cap:,}"
                         f"{' in hosted mode' if limits.hosted() else ''}. Nothing is cut silently.")
    return corpus


def _spell(word: str, end: str | None) -> tuple[str, ...]:
    return tuple(word) + ((end,) if end else ())


def _merge_word(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(symbols):
        if i < len(symbols) - 1 and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(pair[0] + pair[1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def _occurrences(w: list[int], a: int, b: int, i: int = 0) -> list[int]:
    """Start positions (from ``i`` on) of the (a, b) pairs that a left-to-right merge replaces in ``w``."""
    found, n = [], len(w) - 1
    while i < n:
        try:
            i = w.index(a, i, n)
        except ValueError:
            break
        if w[i + 1] == b:
            found.append(i)
            i += 2
        else:
            i += 1
    return found


def _touching(w: list[int], merged: list[int], reach: tuple[int, ...]) -> list[int]:
    """Positions ``m + r`` (m in ``merged``, r in ``reach``) of adjacent pairs of ``w``, each once."""
    last, out = len(w) - 2, []
    for m in merged:
        for k in (m + r for r in reach):
            if (not out or k > out[-1]) and 0 <= k <= last:
                out.append(k)
    return out


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector: training makes ~10^5 small lists, sets and tuples, none
    of them in a cycle, and each full collection they trigger walks every object in the process
    (measured: a third of a 300-merge replay of the Lee corpus)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _index(words: list[list[int]], freqs: list[int], K: int) -> tuple[dict[int, int], dict[int, set[int]]]:
    """Every adjacent pair's count in the corpus (overlaps included) and the words holding it."""
    counts: dict[int, int] = {}
    where: dict[int, set[int]] = defaultdict(set)
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for x, y in zip(w, w[1:]):
            k = x * K + y
            counts[k] = counts.get(k, 0) + f
            where[k].add(wi)
    return counts, where


def _merge(words: list[list[int]], freqs: list[int], where: dict[int, set[int]],
           a: int, b: int, ab: int, K: int) -> tuple[dict[int, int], int]:
    """Replace (a, b) by ab in every word ``where`` lists for it, in place. Returns the change of
    each touched pair's count (the pair itself left out: all its occurrences are gone) and the
    number of symbols the corpus lost. Only the positions of the occurrences are looked at."""
    delta: dict[int, int] = {}
    get = delta.get
    bK, abK, lost = b * K, ab * K, 0
    for wi in where.pop(a * K + b):
        w = words[wi]
        try:
            i = w.index(a)
        except ValueError:
            continue                                                   # the pair left this word
        f, last = freqs[wi], len(w) - 1
        if i < last and w[i + 1] == b and a not in w[i + 2:]:
            # One occurrence (the common case): (x, a) and (b, y) become (x, ab) and (ab, y).
            if i:
                x = w[i - 1] * K
                k = x + a
                delta[k] = get(k, 0) - f
                k = x + ab
                delta[k] = get(k, 0) + f
                where[k].add(wi)
            if i + 1 < last:
                y = w[i + 2]
                k = bK + y
                delta[k] = get(k, 0) - f
                k = abK + y
                delta[k] = get(k, 0) + f
                where[k].add(wi)
            w[i:i + 2] = (ab,)
            lost += f
            continue
        old = _occurrences(w, a, b, i)
        if not old:
            continue
        for k in _touching(w, old, (-1, 0, 1)):
            p = w[k] * K + w[k + 1]
            delta[p] = get(p, 0) - f
        for i in reversed(old):
            w[i:i + 2] = (ab,)
        for k in _touching(w, [i - j for j, i in enumerate(old)], (-1, 0)):
            p = w[k] * K + w[k + 1]
            delta[p] = get(p, 0) + f
            where[p].add(wi)
        lost += len(old) * f
    delta.pop(a * K + b, None)
    return delta, lost


def train(corpus: str, config: BPEConfig = BPEConfig()) -> BPEReplay:
    """Learn ``config.n_merges`` merges from ``corpus``; stops early when no pair is left.

    State: every distinct word as a list of symbol ids with its frequency; ``counts``, each
    adjacent pair's occurrences in the corpus, overlaps included ("a a a" holds (a, a) twice),
    keyed ``first * K + second``; and ``where``, pair -> the words that may hold it (a word is
    added when the pair appears in it and left in place when it disappears; a merge skips it).
    Merging (a, b) in a word looks only at the positions of its occurrences (``_merge``): the old
    pairs overlapping an occurrence lose the word's frequency, the new pairs beside each new
    symbol ab gain it. This is Sennrich's ``update_pair_statistics``, written as "remove the pairs
    touching the merge, add those touching the new symbol", which also holds for runs such as
    "a a a a". The most frequent pair comes off a heap of (-count, pair) entries: a pair is pushed
    when its count rises; an entry found above its pair's current count is pushed back at that
    count, and one below it (a newer entry exists) or of a pair now gone is dropped.
    """
    check_corpus(corpus)
    if not 1 <= config.n_merges <= max_merges():
        raise InputError(f"Number of merges must be 1–{max_merges():,}; got {config.n_merges:,}.")
    text = corpus.lower() if config.lowercase else corpus
    word_counts = Counter(text.split())
    end_set = {config.end_of_word} if config.end_of_word else set()
    alphabet = sorted(set().union(*word_counts) | end_set)
    names = list(alphabet)                                             # symbol id -> string
    ids = {s: i for i, s in enumerate(names)}                          # string -> symbol id
    end = [ids[config.end_of_word]] if config.end_of_word else []
    steps: list[MergeStep] = []
    with _gc_paused():
        words = [[ids[c] for c in w] + end for w in word_counts]       # unique words, spelled
        freqs = list(word_counts.values())
        K = len(names) + config.n_merges                               # more than any symbol id
        counts, where = _index(words, freqs, K)
        n_symbols = initial = sum(len(w) * f for w, f in zip(words, freqs))
        heap = [(-c, (names[k // K], names[k % K]), k) for k, c in counts.items()]
        heapq.heapify(heap)
        while heap and len(steps) < config.n_merges:
            neg, pair, best = heap[0]
            now = counts.get(best, 0)
            if now != -neg:
                if 0 < now < -neg:
                    heapq.heapreplace(heap, (-now, pair, best))         # fell since pushed
                else:
                    heapq.heappop(heap)                                 # gone, or a newer entry
                continue
            new_name = pair[0] + pair[1]
            ab = ids.setdefault(new_name, len(names))                  # one string, one id
            if ab == len(names):
                names.append(new_name)
            delta, lost = _merge(words, freqs, where, *divmod(best, K), ab, K)
            del counts[best]
            for p, d in delta.items():
                c = counts.get(p, 0) + d
                if c:
                    counts[p] = c
                    if d > 0:
                        heapq.heappush(heap, (-c, (names[p // K], names[p % K]), p))
                else:
                    del counts[p]
            n_symbols -= lost
            steps.append(MergeStep(len(steps) + 1, pair, now, new_name, len(alphabet) + len(steps) + 1,
                                   n_symbols))
    return BPEReplay(config, len(corpus), sum(freqs), len(freqs), alphabet, initial, steps)


def encode_and_show_work(word: str, merges: list[tuple[str, str]], end_of_word: str | None = END) -> list[dict]:
    """minGPT style: the word's symbols after every merge that changed it (first entry: spelled)."""
    symbols = _spell(word, end_of_word)
    work = [{"step": 0, "pair": None, "parts": list(symbols)}]
    for i, pair in enumerate(merges, 1):
        new = _merge_word(symbols, pair)
        if new != symbols:
            symbols = new
            work.append({"step": i, "pair": pair, "parts": list(symbols)})
    return work


def segment(text: str, merges: list[tuple[str, str]], config: BPEConfig = BPEConfig()) -> list[str]:
    """Apply ``merges`` in training order to every whitespace word of ``text``."""
    text = text.lower() if config.lowercase else text
    out: list[str] = []
    for word in text.split():
        out.extend(encode_and_show_work(word, merges, config.end_of_word)[-1]["parts"])
    return out


# --------------------------------------------------------------------------- the `tokenizers` library

@dataclass(frozen=True)
class LibraryBPE:
    merges: list[tuple[str, str]]
    vocab_size: int
    segments: list[str]        # the sample sentence, byte-level pieces (Ġ = a leading space)


def train_bytelevel(corpus: str, n_merges: int, sentence: str) -> LibraryBPE:
    """A byte-level BPE trained by Hugging Face `tokenizers` on the same corpus (256 bytes + merges)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    check_corpus(corpus)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(vocab_size=len(alphabet) + n_merges, initial_alphabet=alphabet,
                                  show_progress=False, min_frequency=2)
    tok.train_from_iterator(corpus.splitlines() or [corpus], trainer=trainer)
    return LibraryBPE(_library_merges(tok), tok.get_vocab_size(), tok.encode(sentence).tokens)


def train_whitespace(corpus: str, n_merges: int) -> list[tuple[str, str]]:
    """`tokenizers` BPE with whitespace split and no end marker: same setting as ``no-end-marker``."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    alphabet = sorted(set("".join(corpus.split())))
    trainer = trainers.BpeTrainer(vocab_size=len(alphabet) + n_merges, show_progress=False,
                                  initial_alphabet=alphabet, min_frequency=1)
    tok.train_from_iterator([corpus], trainer=trainer)
    return _library_merges(tok)


def _library_merges(tok) -> list[tuple[str, str]]:
    import json
    merges = json.loads(tok.to_str())["model"]["merges"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]


# --------------------------------------------------------------------------- tokenizer probes

PROBES = {"space": "hello world", "double_space": "a  b", "upper": "Hello HELLO", "lower": "hello hello",
          "digits": "1234567", "emoji": "🙂", "unknown": "𓀀"}


def _bar(t: tokenizers.Tokenization) -> str:
    return "|".join(t.pieces)


@functools.lru_cache(maxsize=None)
def probe(name: str) -> dict[str, str]:
    """How ``name`` treats spaces, case, digits, emoji and unknown characters, found by tokenizing
    small probe strings (nothing here is a hard-coded claim about the tokenizer)."""
    t = {k: tokenizers.tokenize(name, v) for k, v in PROBES.items()}
    world = t["space"].pieces[-1]
    covered = set().union(*(range(a, b) for a, b in t["space"].spans))
    if world.startswith("Ġ"):
        spaces = "space glued to the next word as Ġ"
    elif world.startswith("▁"):
        spaces = "▁ marks a word start (space)"
    elif any(p.endswith("</w>") for p in t["space"].pieces):
        spaces = "dropped; </w> marks a word end"
    elif 5 not in covered:
        spaces = "dropped (split on whitespace)"
    else:
        spaces = f"kept: {_bar(t['space'])}"
    rt = tokenizers.decode(name, t["double_space"].ids) == PROBES["double_space"]
    spaces += "; double space " + ("kept" if rt else "lost")
    case = ("lower-cased (case lost)" if t["upper"].ids == t["lower"].ids
            else f"case-sensitive: {_bar(t['upper'])} vs {_bar(t['lower'])}")
    digits = f"{PROBES['digits']} → {_bar(t['digits'])} ({t['digits'].n_tokens} tokens)"
    return {"spaces": spaces, "case": case, "digits": digits,
            "emoji": _odd_char(name, t["emoji"]), "unknown": _odd_char(name, t["unknown"])}


def _odd_char(name: str, t: tokenizers.Tokenization) -> str:
    pieces = [p for p in t.pieces if p != "▁"]          # a bare ▁ is SentencePiece's word start
    rt = tokenizers.decode(name, t.ids).strip() == t.text
    if any(p in ("[UNK]", "<unk>") for p in pieces):
        how = f"unknown token {pieces[0]} (information lost)"
    elif any(p.startswith("<0x") for p in pieces):
        how = f"byte fallback: {len(pieces)} byte tokens"
    elif len(pieces) > 1:
        how = f"{len(pieces)} byte-level pieces, each a partial character"
    else:
        how = "one vocabulary entry"
    return f"{t.text} → {_bar(t)} ({t.n_tokens} tok): {how}{'' if rt else '; does not round-trip'}"


def compare(text: str) -> list[dict]:
    """The same text through every registered tokenizer: counts, characters/token, round trip."""
    rows = []
    for name in tokenizers.available():
        t = tokenizers.tokenize(name, text)
        rt = tokenizers.round_trip(name, text) if text else None
        rows.append({"name": name, "label": tokenizers.info(name).label, "tokenization": t,
                     "n_tokens": t.n_tokens, "chars_per_token": t.chars_per_token,
                     "round_trip": rt})
    return rows
