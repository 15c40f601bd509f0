"""word2vec trained live with gensim (Mikolov et al. 2013): skip-gram or CBOW with negative
sampling, noise distribution P_n(w) ∝ f(w)^(3/4) (``ns_exponent``), as in Mikolov et al. 2013b.

``train(sentences, config, on_epoch)`` reports progress and the loss of every epoch through a
callback (gensim ``compute_loss=True``; gensim's counter is cumulative, so per-epoch loss is the
difference between consecutive readings). The result's ``kv`` works with every function in
``core.text.glove`` (nearest, analogy, project) through their ``kv=`` argument.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.runtime import limits
from core.text.bpe import check_corpus
from core.runtime.errors import InputError


@dataclass(frozen=True)
class W2VConfig:
    sg: int = 1                  # 1 skip-gram (predict context from centre), 0 CBOW
    negative: int = 5            # k noise words per true pair
    ns_exponent: float = 0.75    # the 3/4 in P_n(w) ∝ f(w)^(3/4)
    window: int = 5
    vector_size: int = 50
    min_count: int = 3
    epochs: int = 5
    seed: int = 1
    workers: int = 1             # 1 thread: reproducible; with 2, gensim's loss counter read about half


PRESETS = {"skip-gram": W2VConfig(), "cbow": W2VConfig(sg=0)}

# What the page opens on, measured on the bundled lee_background corpus (58,152 words, 300
# stories): CBOW, 20 epochs, min count 5 trains in a few seconds with a loss that falls every
# epoch, nearest neighbours that make sense (afghanistan: taliban, tora, bora) and one analogy the
# corpus supports, arafat − palestinian + israeli ≈ sharon. Skip-gram with 5 epochs there reports a
# loss that rises after epoch 3 and vectors whose cosines all sit near 0.95: too little text for
# it. Most analogies (king − man + woman) need billions of words; GloVe 6B shows them.
DEFAULT = W2VConfig(sg=0, min_count=5, epochs=20)
DEFAULT_WORD = "afghanistan"
DEFAULT_ANALOGY = ("arafat", "palestinian", "israeli")     # a − b + c
DEFAULT_ANSWER = "sharon"


@dataclass(frozen=True)
class Caps:
    max_epochs: int
    max_vector_size: int
    max_window: int
    max_negative: int


LOCAL_CAPS = Caps(max_epochs=50, max_vector_size=300, max_window=15, max_negative=20)
HOSTED_CAPS = Caps(max_epochs=10, max_vector_size=100, max_window=10, max_negative=10)


def caps() -> Caps:
    return HOSTED_CAPS if limits.hosted() else LOCAL_CAPS


def check_config(cfg: W2VConfig) -> W2VConfig:
    """Refuse settings beyond the caps (tighter in hosted mode), naming the cap."""
    c, where = caps(), " in hosted mode" if limits.hosted() else ""
    for name, value, cap in [("epochs", cfg.epochs, c.max_epochs),
                             ("vector size", cfg.vector_size, c.max_vector_size),
                             ("window", cfg.window, c.max_window),
                             ("negative samples k", cfg.negative, c.max_negative)]:
        if not 1 <= value <= cap:
            raise InputError(f"{name.capitalize()} {value} is outside 1–{cap}{where}. "
                             "Lower it to train here.")
    return cfg


@functools.lru_cache(maxsize=1)
def bundled_text() -> str:
    """gensim's lee_background corpus: 300 Australian news documents, one per line."""
    from gensim.test.utils import datapath
    with open(datapath("lee_background.cor"), encoding="utf-8") as f:
        return f.read()


def sentences_from_text(text: str) -> list[list[str]]:
    """One training sentence per non-empty line, lower-cased and tokenised by gensim (corpus cap:
    ``limits.current().max_corpus_chars``, refused not cut)."""
    from gensim.utils import simple_preprocess
    check_corpus(text)
    sents = [s for s in (simple_preprocess(line) for line in text.splitlines()) if s]
    if not sents:
        raise InputError("The training text has no words gensim can use (letters, 2–15 long).")
    return sents


@dataclass(frozen=True)
class W2VResult:
    config: W2VConfig
    kv: object                    # gensim KeyedVectors (use with core.text.glove functions)
    epoch_loss: list[float]       # training loss of each epoch
    seconds: float
    n_sentences: int
    n_words: int                  # running words in the corpus
    vocab_size: int
    extras: dict = field(default_factory=dict)


def train(sentences: list[list[str]], cfg: W2VConfig = W2VConfig(),
          on_epoch: Callable[[int, int, float], None] | None = None) -> W2VResult:
    """Train on ``sentences``; ``on_epoch(done, total, loss)`` is called after every epoch."""
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    check_config(cfg)
    n_words = sum(len(s) for s in sentences)
    losses: list[float] = []

    class _Report(CallbackAny2Vec):
        def __init__(self):
            self.previous = 0.0

        def on_epoch_end(self, model):
            total = model.get_latest_training_loss()
            losses.append(float(total - self.previous))
            self.previous = total
            limits.checkpoint()                       # a hosted run past its time budget stops here
            if on_epoch:
                on_epoch(len(losses), cfg.epochs, losses[-1])

    start = time.perf_counter()
    model = Word2Vec(vector_size=cfg.vector_size, window=cfg.window, sg=cfg.sg, negative=cfg.negative,
                     ns_exponent=cfg.ns_exponent, min_count=cfg.min_count, seed=cfg.seed,
                     workers=cfg.workers, compute_loss=True)
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise InputError(f"No word occurs at least {cfg.min_count} times (min count). "
                         "Lower min count or use a longer text.")
    model.train(sentences, total_examples=model.corpus_count, epochs=cfg.epochs,
                compute_loss=True, callbacks=[_Report()])
    return W2VResult(cfg, model.wv, losses, time.perf_counter() - start, len(sentences), n_words,
                     len(model.wv.index_to_key))
