"""AppTest of the home, tokenization and embeddings pages: main controls via the URL, and bad input."""
import json

import pytest

from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

HOME, TOK, EMB = by_url("home"), by_url("tokenization"), by_url("embeddings")


def _warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


def _chart(at, slug: str) -> dict:
    """The plotly spec of the figure show_figure drew under ``slug``."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith(f"fig-{slug}")]
    assert len(specs) == 1, slug
    return specs[0]


def _caption(at, start: str) -> str:
    return next(c.value for c in at.caption if c.value.startswith(start))


@pytest.mark.parametrize("model, glu, n_layers, n_tokens, head", [("smollm2-135m", "SwiGLU", 30, 5, (16, 0)),
                                                                  ("gemma3-270m", "GeGLU", 18, 6, (2, 3))])
def test_home_runs_every_stage(model, glu, n_layers, n_tokens, head):
    at = run_page(HOME, {"model": model})
    assert problems(at) == [] and _warnings(at) == ""
    heads = [h.value for h in at.header]
    assert [h.split(" · ")[0] for h in heads] == [str(i) for i in range(1, 9)]
    # opens on the model's measured previous-token head (core.attention.defaults)
    assert at.slider(key="url::layer").value == head[0] and at.slider(key="url::head").value == head[1]
    assert heads[3].startswith(f"4 · One attention head (layer {head[0]},") and heads[3].endswith(f"head {head[1]})")
    assert heads[4] == f"5 · The feed-forward block (layer {head[0]})" and heads[6] == "7 · The logit lens"
    assert "the token just before it" in _caption(at, f"Layer {head[0]} head {head[1]}: the last token puts")
    assert any(f"(**{glu}**)" in m.value for m in at.markdown)
    ff = _chart(at, "home-feed-forward")["data"][0]
    assert ff["type"] == "bar" and len(ff["y"]) == 10 and ff["y"][0].startswith("neuron ")
    assert ff["text"][0].startswith("↑ ")
    assert at.selectbox(key="url::token").value == n_tokens - 1           # the last token by default
    writes = _chart(at, "home-residual-writes")["data"]
    assert {t["name"] for t in writes} == {"attention", "MLP"} and len(writes) == 4
    assert all(len(t["x"]) == n_layers for t in writes)
    assert len(_chart(at, "home-logit-lens")["data"][0]["x"]) == n_layers + 1


def test_home_lens_strip_names_paris_and_token_picker_follows_the_link():
    at = run_page(HOME, {"token": "3", "layer": "5"})
    assert problems(at) == [] and _warnings(at) == ""
    assert "at depth 30 of 30" in _caption(at, "“ Paris” first becomes the top token at depth ")
    strip = _chart(at, "home-logit-lens")["data"][0]
    assert strip["type"] == "heatmap" and strip["x"][-1] == "30:·Paris"
    assert "write helps “ Paris” most" in _caption(at, "Layer 29's MLP")
    ff = _caption(at, "At “ France”, unit ")
    assert "of layer 5" in ff and "act = silu(" in ff
    assert at.query_params["token"] == "3" and at.query_params["layer"] == "5"


def test_home_token_link_out_of_range_falls_back_to_the_last_token():
    at = run_page(HOME, {"token": "99"})
    assert problems(at) == []
    assert "“token”" in _warnings(at) and at.selectbox(key="url::token").value == 4


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
