"""AppTest of the tokenization and embeddings pages: main controls via the URL, and bad input."""
from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

TOK, EMB = by_url("tokenization"), by_url("embeddings")


def _warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


def test_tokenization_preset_and_bpe_step():
    at = run_page(TOK, {"preset": "Chinese", "text": "自然语言处理 🙂", "merges": "50", "step": "7",
                        "sentence": "the new government"})
    assert problems(at) == [] and _warnings(at) == ""
    assert at.query_params["text"] == "自然语言处理 🙂"
    assert len(at.get("plotly_chart")) == 2
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Vocabulary"].replace(",", "").isdigit() and "+" in metrics["Merged pair"]
    assert at.slider(key="url::step").value == 7
    at.button[1].click().run()                                  # "next ▶"
    assert at.slider(key="url::step").value == 8 and problems(at) == []


def test_tokenization_bad_inputs(monkeypatch):
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    at = run_page(TOK, {"text": "x" * 4_001, "corpus": "yours", "merges": "20"})
    assert problems(at) == []
    assert "4,001 characters; the cap is 4,000 in hosted mode" in _warnings(at)
    at = run_page(TOK, {"text": "   ", "corpus": "yours", "merges": "20"})
    assert problems(at) == [] and "corpus is empty" in _warnings(at)


def test_embeddings_static_views_and_oov():
    at = run_page(EMB, {"view": "static", "a": "paris", "b": "france", "c": "germany", "method": "tsne"})
    assert problems(at) == [] and _warnings(at) == ""
    assert any("≈ “berlin”" in c.value for c in at.caption)
    at = run_page(EMB, {"view": "static", "word": "blorptastic", "c": "qwzxv", "words": "king", "nbrs": "0"})
    assert problems(at) == []
    w = _warnings(at)
    assert "“blorptastic”" in w and "“qwzxv”" in w and "at least 3" in w


def test_embeddings_word2vec_and_hosted_caps(monkeypatch):
    at = run_page(EMB, {"view": "word2vec", "epochs": "2", "size": "20"})
    assert problems(at) == [] and any("Trained in" in c.value for c in at.caption)
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    at = run_page(EMB, {"view": "word2vec", "epochs": "40", "w2v_corpus": "pasted", "w2v_text": ""})
    w = _warnings(at)
    assert problems(at) == [] and "epochs" in w and "outside 1–10" in w and "empty" in w


def test_embeddings_contextual_and_positional():
    at = run_page(EMB, {"view": "contextual", "depth": "50"})
    assert problems(at) == [] and len(at.get("plotly_chart")) == 3
    assert any("minilm-l6, layer 3/6" in c.value and "smollm2-135m, layer 15/30" in c.value for c in at.caption)
    at = run_page(EMB, {"view": "contextual", "cword": "bank", "sentences": "a bank\nno such word"})
    assert problems(at) == [] and "does not occur" in _warnings(at)
    at = run_page(EMB, {"view": "positional", "base": "500000", "d_model": "64", "n_pos": "64"})
    assert problems(at) == [] and len(at.get("plotly_chart")) == 4
    assert any("100,000" in m.value for m in at.markdown)           # SmolLM2's own RoPE base
