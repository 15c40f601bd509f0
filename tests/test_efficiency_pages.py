"""AppTest of the Sparse & linear attention and KV cache & MLA pages, bad inputs included."""
import json

from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

SPARSE, KV = by_url("sparse"), by_url("kv-cache")


def _text(at, kind: str) -> str:
    return " ".join(e.value for e in getattr(at, kind))


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_sparse_defaults_draw_mask_without_measuring():
    at = run_page(SPARSE)
    assert problems(at) == []
    assert "density 12.18%" in _text(at, "caption")            # Longformer, 4,096 tokens
    assert "press **Measure**" in _text(at, "caption")         # nothing compiled on first load
    assert "KL(dense‖sparse)" not in _text(at, "caption")       # lazy tabs: SmolLM2 not run
    at = run_page(SPARSE, {"tab": "On SmolLM2"})
    assert problems(at) == [] and "KL(dense‖sparse)" in _text(at, "caption")
    assert "press **Measure**" not in _text(at, "caption")


def test_sparse_window_longer_than_sequence_is_clamped():
    at = run_page(SPARSE, {"pattern": "window", "n": "256", "window_window": "512"})
    assert problems(at) == []
    assert "clamped to 256" in _text(at, "info")


def test_sparse_too_long_is_refused_with_budget():
    at = run_page(SPARSE, {"lengths": "512|32768"})
    _button(at, "Measure").click().run()
    assert problems(at) == []
    warn = _text(at, "warning")
    assert "32,768" in warn and "budget" in warn and "GiB" in warn


def test_sparse_measure_small_length():
    at = run_page(SPARSE, {"pattern": "window", "n": "256", "window_window": "32", "lengths": "256"})
    _button(at, "Measure").click().run()
    assert problems(at) == []
    caps = _text(at, "caption")
    assert "outputs differ by at most" in caps and "Measured" in caps


def test_kv_defaults_and_mla_measurement():
    at = run_page(KV)
    assert problems(at) == []
    assert "not constant in sequence length" in _text(at, "info")
    caps = _text(at, "caption")
    assert "each equal to its formula" in caps
    assert "35,136 elements per token" in " ".join(m.value for m in at.markdown)


def test_kv_upload_valid_and_invalid_config():
    at = run_page(KV, {"dtype": "fp8", "batch": "4"})
    good = {"num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
            "hidden_size": 4096, "intermediate_size": 14336, "vocab_size": 128256}
    at.file_uploader[0].set_value(("config.json", json.dumps(good).encode(), "application/json")).run()
    assert problems(at) == []
    assert "Read config.json: GQA, 32 layers, 8 KV heads" in _text(at, "success")
    bad = {**good, "num_attention_heads": -4}
    at.file_uploader[0].set_value(("config.json", json.dumps(bad).encode(), "application/json")).run()
    assert problems(at) == []
    assert "num_attention_heads" in _text(at, "warning")
    at.file_uploader[0].set_value(("config.json", b"{oops", "application/json")).run()
    assert "not valid JSON" in _text(at, "warning")


def test_sparse_real_model_tab_gemma_pattern_and_band():
    at = run_page(SPARSE, {"tab": "In a real model"})
    assert problems(at) == [] and _text(at, "warning") == ""
    md = " ".join(m.value for m in at.markdown)
    assert "At 4,096 tokens each local layer computes 23.4% of the causal pairs" in md
    assert "the model computes 36.2%" in md
    assert "On these 1,024 tokens, layer 4's largest weight" in md and "is **0.0** (exactly zero)" in md
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 3                                          # pattern bars, local head, global head
    assert [t["name"] for t in charts[0]["data"] if t["type"] == "bar"] == ["local layers", "global layers"]
    assert all(c["data"][0]["type"] == "image" and len(c["layout"]["shapes"]) == 1 for c in charts[1:])
    assert "press **Measure**" not in _text(at, "caption")         # lazy tabs: the pattern tab did not run


def test_sparse_real_model_tab_hosted_refuses_long_text_before_running(monkeypatch):
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    at = run_page(SPARSE, {"tab": "In a real model", "gn": "32768", "glen": "4096"})
    assert problems(at) == []
    assert "1,024" in _text(at, "warning") and "hosted" in _text(at, "warning")
    md = " ".join(m.value for m in at.markdown)
    assert "At 32,768 tokens each local layer computes 3.1% of the causal pairs" in md
    assert len(at.get("plotly_chart")) == 1                           # the pattern still drawn, no forward pass
    assert "atlas-budget" not in at.session_state or not at.session_state["atlas-budget"]   # nothing spent


def test_kv_naive_vs_absorbed_measured_on_a_small_grid():
    at = run_page(KV, {"trade_b": "1|2", "trade_s": "4|64"})
    assert problems(at) == []
    assert "press **Measure naive vs absorbed**" in _text(at, "caption")
    assert "multiply-adds per cached token" in _text(at, "markdown")
    _button(at, "Measure naive vs absorbed").click().run()
    assert problems(at) == [] and _text(at, "warning").count("random") == 1
    caps = _text(at, "caption")
    assert "of 4 cells" in caps and "multiply-add ratio" in caps
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith("fig-mla-naive-vs-absorbed"))
    names = [t["name"] for t in spec["data"]]
    assert names == ["batch 1, measured", "batch 2, measured", "multiply-adds (any batch)"]
    assert spec["data"][0]["x"] == [4, 64] and all(y > 0 for y in spec["data"][0]["y"])


def test_kv_batched_decode_and_hosted_grid_cap(monkeypatch):
    at = run_page(KV, {"mla_batch": "3", "mla_new": "8"})
    assert problems(at) == []
    assert "× batch 3 the allocated caches hold" in _text(at, "caption")
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    at = run_page(KV, {"trade_b": "64", "trade_s": "1024"})
    _button(at, "Measure naive vs absorbed").click().run()
    assert problems(at) == []
    assert "batch 64 × 1,024 is over" in _text(at, "warning")
