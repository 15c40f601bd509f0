"""Static vs contextual word vectors: the same word in several sentences.

A static embedding (GloVe; Pennington et al. 2014) gives a word one vector whatever the
sentence. A transformer's hidden states (Vaswani et al. 2017; the "contextual embeddings" of
Peters et al. 2018 / Ethayarajh 2019) differ by context and drift further apart layer by layer.
For every sentence we find the word's tokens by their character spans, average the hidden state
entering each layer over those tokens, and compare sentences by cosine similarity per layer.

Causal models (SmolLM2) only see the words to the left of the target; encoders (MiniLM) see both
sides. Shape names: layer (0 = token embeddings), sentence, d_model.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.text import glove as embeddings
from core.runtime import models
from core.runtime.errors import InputError

MODELS = ("minilm-l6", "smollm2-135m", "gemma3-270m")
MAX_SENTENCES = 8
DEFAULT_WORD = "bank"
DEFAULT_SENTENCES = (
    "We had a picnic on the grassy bank of the river.",
    "The fisherman sat on the muddy river bank all morning.",
    "She asked the bank for a loan to buy a house.",
    "I deposited my salary at the bank on Monday.",
    "After the flood, the river burst its bank.",
)


@dataclass(frozen=True)
class ModelVectors:
    model: str
    causal: bool
    pieces: list[list[str]]       # per sentence: the tokens that make up the word
    vectors: np.ndarray           # (layer, sentence, d_model) mean hidden state over the word's tokens
    cosine: np.ndarray            # (layer, sentence, sentence)
    trajectory: np.ndarray        # (layer, sentence, 2) joint PCA of the unit vectors
    explained: list[float]        # PCA variance ratio of the two axes

    @property
    def n_layers(self) -> int:
        return self.vectors.shape[0] - 1

    def mean_offdiag(self) -> np.ndarray:
        """(layer,) mean cosine between different sentences: 1.0 means context changed nothing."""
        n = self.cosine.shape[1]
        mask = ~np.eye(n, dtype=bool)
        return self.cosine[:, mask].mean(axis=1) if n > 1 else np.ones(self.cosine.shape[0])


@dataclass(frozen=True)
class ContextualResult:
    word: str
    sentences: list[str]
    static: np.ndarray | None     # (d_glove,) the one GloVe vector, None when GloVe lacks the word
    static_cosine: np.ndarray     # (sentence, sentence): all ones, the point of "static"
    models: dict[str, ModelVectors]


def word_span(sentence: str, word: str) -> tuple[int, int]:
    """[start, end) of the first whole-word, case-insensitive occurrence of ``word``."""
    m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", sentence, flags=re.IGNORECASE)
    if not m:
        raise InputError(f"“{word}” does not occur as a whole word in: “{sentence[:80]}”. "
                         "Every sentence must contain the word.")
    return m.span()


def check_inputs(word: str, sentences: list[str]) -> tuple[str, list[str]]:
    word = (word or "").strip()
    if not word or any(c.isspace() for c in word):
        raise InputError("Give one word (no spaces), e.g. bank.")
    sentences = [s.strip() for s in sentences if s.strip()]
    if len(sentences) < 2:
        raise InputError("Give at least two sentences (one per line) to compare contexts.")
    if len(sentences) > MAX_SENTENCES:
        raise InputError(f"{len(sentences)} sentences; the cap is {MAX_SENTENCES}. Remove some.")
    for s in sentences:
        word_span(s, word)
    return word, sentences


def _cosine(v: np.ndarray) -> np.ndarray:
    """(layer, sentence, d) -> (layer, sentence, sentence)."""
    unit = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    return np.einsum("lsd,ltd->lst", unit, unit)


def _trajectory(v: np.ndarray) -> tuple[np.ndarray, list[float]]:
    from sklearn.decomposition import PCA
    n_layer, n_sent, d = v.shape
    unit = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    flat = unit.reshape(n_layer * n_sent, d)
    pca = PCA(n_components=2, random_state=0)
    xy = pca.fit_transform(flat).reshape(n_layer, n_sent, 2)
    return xy, [float(x) for x in pca.explained_variance_ratio_]


def model_vectors(name: str, word: str, sentences: list[str],
                  runner: Callable[[str, str], models.RunResult] = models.run) -> ModelVectors:
    """Per-layer vectors of ``word`` in each sentence from one model's forward passes."""
    per_sentence, pieces, causal = [], [], False
    for s in sentences:
        res = runner(name, s)
        causal = res.causal
        a, b = word_span(s, word)
        idx = [i for i, (x, y) in enumerate(res.spans) if y > x and x < b and y > a]   # overlapping tokens
        if not idx:
            raise InputError(f"{name} has no token covering “{word}” in “{s[:80]}”.")
        hs = np.stack([h[idx].float().mean(0).cpu().numpy() for h in res.hidden_states])  # (layer, d_model)
        per_sentence.append(hs)
        pieces.append([res.pieces[i] for i in idx])
    v = np.stack(per_sentence, axis=1)                                  # (layer, sentence, d_model)
    xy, explained = _trajectory(v)
    return ModelVectors(name, causal, pieces, v, _cosine(v), xy, explained)


def compare(word: str, sentences: list[str], model_names=MODELS,
            runner: Callable[[str, str], models.RunResult] = models.run) -> ContextualResult:
    """GloVe's one vector beside each model's layer-by-layer vectors of ``word``."""
    word, sentences = check_inputs(word, sentences)
    try:
        static = embeddings.vector(word)
    except InputError:
        static = None
    n = len(sentences)
    return ContextualResult(word, sentences, static, np.ones((n, n)),
                            {m: model_vectors(m, word, sentences, runner) for m in model_names})
