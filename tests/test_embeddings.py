"""GloVe analogies and neighbours, messages for missing words, maps, word2vec training and caps,
and the static-vs-contextual comparison on MiniLM."""
import numpy as np
import pytest

from core.text import contextual
from core.text import glove as E
from core.text import word2vec as W
from core.runtime.errors import InputError


def test_king_minus_man_plus_woman_is_queen():
    best, score = E.analogy(["king", "woman"], ["man"], k=3)[0]
    assert best == "queen" and score == pytest.approx(0.852, abs=0.01)
    assert E.analogy(["Paris", "germany"], ["france"], k=1)[0][0] == "berlin"   # case folded


def test_nearest_neighbours():
    near = E.nearest("king", 5)
    assert len(near) == 5 and "queen" in [w for w, _ in near] and "king" not in [w for w, _ in near]
    assert all(a >= b for (_, a), (_, b) in zip(near, near[1:]))


def test_oov_message_names_the_word():
    with pytest.raises(InputError, match="“qwzxv”") as err:
        E.analogy(["king", "qwzxv"], ["man"])
    assert "GloVe" in str(err.value)
    with pytest.raises(InputError, match="“blorptastic”, “zzqy” are not"):
        E.check_words(["blorptastic", "zzqy"])
    with pytest.raises(InputError, match="No word"):
        E.nearest("  ")


def test_projection_shapes_and_caps():
    words = E.parse_words("king, queen man woman, paris france berlin germany apple banana King")
    assert len(words) == 10
    for method, dims in [("pca", 2), ("pca", 3), ("tsne", 2)]:
        p = E.project(words, method, dims)
        assert p.coords.shape == (10, dims) and np.isfinite(p.coords).all()
    assert 0 < sum(E.project(words, "pca").explained) <= 1
    with pytest.raises(InputError, match="at least 3"):
        E.project(["king", "queen"], "pca")
    with pytest.raises(InputError, match="500"):
        E.project(E.glove().index_to_key[:501], "pca")


DEFAULT_MAP = {"king": 0, "queen": 0, "man": 0, "woman": 0, "paris": 1, "france": 1, "berlin": 1,
               "germany": 1, "apple": 2, "banana": 2}


@pytest.mark.parametrize("dims", [2, 3])
def test_tsne_map_of_the_default_words_shows_their_groups(dims):
    """The page's default map (10 words + 5 neighbours each) by t-SNE: the people, the places and
    the fruit/companies form separate groups. scikit-learn's own 3D kernel (t with 2 degrees of
    freedom) spread them into an even ball: silhouette 0.12-0.27 and median nearest-neighbour
    distance about 0.11 of the extent; with one degree, 0.8 and 0.03."""
    from scipy.spatial.distance import cdist
    from sklearn.metrics import silhouette_score
    group = {}
    for w, g in DEFAULT_MAP.items():
        group.setdefault(w, g)
        for x, _ in E.nearest(w, 5):
            group.setdefault(x, g)
    words = E.with_neighbours(list(DEFAULT_MAP), 5)
    assert set(words) == set(group)
    p = E.project(words, "tsne", dims)
    c = p.coords
    assert c.std() == pytest.approx(1.0, rel=1e-3) and np.abs(c.mean(0)).max() < 1e-3      # standardised
    assert silhouette_score(c, [group[w] for w in p.words]) > 0.6
    d = cdist(c, c)
    np.fill_diagonal(d, np.inf)
    assert np.median(d.min(1)) / np.linalg.norm(np.ptp(c, 0)) < 0.06                     # clustered, not even
    assert np.median(d.min(1)) > 0.005 * np.linalg.norm(np.ptp(c, 0))                    # and not collapsed


def test_word2vec_trains_and_reports_every_epoch():
    sents = W.sentences_from_text(W.bundled_text())[:120]
    seen = []
    res = W.train(sents, W.W2VConfig(epochs=3, vector_size=20, min_count=2),
                  on_epoch=lambda i, n, loss: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)] and len(res.epoch_loss) == 3
    assert all(x > 0 for x in res.epoch_loss) and res.vocab_size > 200
    assert res.kv.vector_size == 20 and len(E.nearest("government", 5, res.kv)) == 5
    with pytest.raises(InputError, match="trained model"):
        E.nearest("qwzxv", 5, res.kv)


def test_word2vec_caps_and_empty_text(monkeypatch):
    with pytest.raises(InputError, match="empty"):
        W.sentences_from_text("  ")
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    with pytest.raises(InputError, match="Epochs 20 is outside 1–10 in hosted mode"):
        W.check_config(W.W2VConfig(epochs=20))
    with pytest.raises(InputError, match="200,000"):
        W.sentences_from_text("word " * 50_000)


def test_contextual_vectors_separate_the_senses():
    sents = ["We sat on the grassy bank of the river.", "The river bank was muddy.",
             "She asked the bank for a loan.", "I paid money into the bank."]
    r = contextual.compare("Bank", sents, model_names=("minilm-l6",))
    mv = r.models["minilm-l6"]
    assert mv.vectors.shape == (7, 4, 384) and mv.cosine.shape == (7, 4, 4)
    assert all(p == ["bank"] for p in mv.pieces)
    assert np.allclose(r.static_cosine, 1.0) and r.static.shape == (50,)
    last = mv.cosine[-1]
    assert last[0, 1] > last[0, 2] and last[2, 3] > last[1, 3]            # river-river, money-money
    assert mv.mean_offdiag()[0] > mv.mean_offdiag()[-1]                    # contexts pull apart
    with pytest.raises(InputError, match="does not occur"):
        contextual.check_inputs("bank", ["a bank", "no such word here"])
    with pytest.raises(InputError, match="at least two"):
        contextual.check_inputs("bank", ["a bank"])
