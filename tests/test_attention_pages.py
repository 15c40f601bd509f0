"""AppTest for the Attention and Causal pages: main controls through the URL, and the bad inputs
the issue lists (over-cap text, MiniLM past 512 positions, bertviz cap, temperature 0, top-p outside
(0, 1], tokens containing HTML)."""
import json

from core.runtime import limits
from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

ATTN, CAUSAL = by_url("attention"), by_url("causal")


def _warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


def _labels(at) -> list[str]:
    """Every string on a chart axis or bar (token labels)."""
    out = []
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            for key in ("x", "y"):
                vals = trace.get(key)
                if isinstance(vals, list):
                    out += [v for v in vals if isinstance(v, str)]
    return out


def test_attention_html_tokens_and_bertviz():
    at = run_page(ATTN, {"attn_text": "The <b>cat</b> sat <script>x</script>", "attn_layer": "2", "attn_head": "4",
                         "bertviz": "head", "stat": "prev_token"})
    assert problems(at) == [] and _warnings(at) == ""
    assert len(at.get("plotly_chart")) >= 4
    labels = _labels(at)
    assert any("&lt;" in v for v in labels) and not any("<" in v for v in labels)
    pills = " ".join(h.proto.body for h in at.get("html"))
    assert "&lt;" in pills and "<script" not in pills and "<b>" not in pills
    srcdoc = at.get("iframe")[0].proto.srcdoc
    assert "define('d3'" in srcdoc and 'src="http' not in srcdoc      # libraries inlined, no CDN
    assert "\\u003c/" in srcdoc and "</script><script>x" not in srcdoc
    assert at.query_params["attn_layer"] == "2" and at.query_params["attn_head"] == "4"
    assert any("Layer 2 head 4" in c.value for c in at.caption)


def test_attention_minilm_refuses_past_512_positions():
    at = run_page(ATTN, {"model": "minilm-l6", "input": "Lee news corpus, 4,096 tokens"})
    assert problems(at) == []
    assert "512 positions" in _warnings(at) and "4,096 tokens" in _warnings(at)


def test_attention_bertviz_cap_is_explained():
    at = run_page(ATTN, {"model": "minilm-l6", "input": "Lee news corpus, 512 tokens", "bertviz": "model"})
    assert problems(at) == []
    warn = _warnings(at)
    cap = limits.current().bertviz_max_tokens
    assert f"bertviz is offered up to {cap} tokens" in warn and "212 MB" in warn
    assert len(at.get("plotly_chart")) >= 4                          # the heatmaps still work at 512


def test_attention_over_cap_text_names_the_cap():
    at = run_page(ATTN, {"attn_text": "word " * 12_000})
    assert problems(at) == []
    assert f"{limits.current().max_text_chars:,}" in _warnings(at)


def test_causal_temperature_zero_is_greedy():
    at = run_page(CAUSAL, {"temperature": "0.0", "new": "3", "mask_layer": "1", "mask_head": "7"})
    assert problems(at) == []
    assert any("greedy" in i.value for i in at.info)
    assert at.text[0].value.startswith("The capital of France is Paris")
    assert any("exactly zero" in s.value for s in at.success)
    kv = next(c.value for c in at.caption if "KV cache grows" in c.value)
    assert "equal to the formula" in kv and "NOT" not in kv


def test_causal_top_p_zero_refused():
    at = run_page(CAUSAL, {"top_p": "0.0", "new": "2"})
    assert problems(at) == []
    assert "top-p must lie in (0, 1]" in _warnings(at)


def test_causal_top_p_link_outside_range_ignored():
    at = run_page(CAUSAL, {"top_p": "1.5", "new": "2"})
    assert problems(at) == []
    assert "top_p" in _warnings(at) and "1.5" in _warnings(at)
    assert at.query_params["top_p"] == "0.9"
