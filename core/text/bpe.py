"""Byte Pair Encoding training, replayed merge by merge (Sennrich et al. 2016), and probes of how
the registered tokenizers treat spaces, case, digits, emoji and unknown characters.

``train(corpus, config)`` follows seed 002's algorithm: split on whitespace, spell every word as
characters plus an end-of-word symbol ``</w>``, then repeatedly merge the most frequent adjacent
pair. It returns every step as data (like minGPT's ``encode_and_show_work``) instead of only the
final merge table. Pair counts are updated incrementally, as in Sennrich's reference code: only
the words that contain the merged pair are recounted, and the most frequent pair comes off a heap
of (count, pair) entries (an entry whose count has since changed is skipped), so a merge costs the
words it touches rather than a scan of every pair. This gives the same merges as recounting
everything each step (``tests/test_bpe.py``).

Ties: the seed's code takes whichever tied pair it happened to count first; here ties go to the
lexicographically smallest pair, so a replay is reproducible from the corpus alone.
"""
from __future__ import annotations

import functools
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


def _pairs(symbols: tuple[str, ...]) -> Counter:
    return Counter(zip(symbols, symbols[1:]))


def train(corpus: str, config: BPEConfig = BPEConfig()) -> BPEReplay:
    """Learn ``config.n_merges`` merges from ``corpus``; stops early when no pair is left."""
    check_corpus(corpus)
    if not 1 <= config.n_merges <= max_merges():
        raise InputError(f"Number of merges must be 1–{max_merges():,}; got {config.n_merges:,}.")
    text = corpus.lower() if config.lowercase else corpus
    word_counts = Counter(text.split())
    words = [_spell(w, config.end_of_word) for w in word_counts]       # unique words, spelled
    freqs = list(word_counts.values())
    alphabet = sorted({s for w in words for s in w})
    pair_counts: Counter = Counter()
    where: dict[tuple[str, str], set[int]] = defaultdict(set)           # pair -> word indices
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for p, c in _pairs(w).items():
            pair_counts[p] += c * f
            where[p].add(wi)
    n_symbols = sum(len(w) * f for w, f in zip(words, freqs))
    initial = n_symbols
    # Max-heap by count, ties to the smallest pair: exactly max count, then min pair.
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    steps: list[MergeStep] = []
    for step in range(1, config.n_merges + 1):
        while heap and pair_counts.get(heap[0][1], 0) != -heap[0][0]:
            heapq.heappop(heap)                                         # stale entry
        if not heap:
            break
        top, best = -heap[0][0], heap[0][1]
        changed: set[tuple[str, str]] = set()
        for wi in list(where[best]):
            old, f = words[wi], freqs[wi]
            new = _merge_word(old, best)
            before, after = _pairs(old), _pairs(new)
            for p in before.keys() | after.keys():
                c = after.get(p, 0) - before.get(p, 0)
                if not c:
                    continue
                changed.add(p)
                pair_counts[p] += c * f
                if pair_counts[p] <= 0:
                    del pair_counts[p]
                if p not in after:
                    where[p].discard(wi)
                elif p not in before:
                    where[p].add(wi)
            n_symbols -= (len(old) - len(new)) * f
            words[wi] = new
        del where[best]
        for p in changed:
            if p in pair_counts:
                heapq.heappush(heap, (-pair_counts[p], p))
        steps.append(MergeStep(step, best, top, best[0] + best[1], len(alphabet) + step, n_symbols))
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
