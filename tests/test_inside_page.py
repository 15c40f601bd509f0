"""The "Inside the model" page: its pure figure builders (asserted on fig.data / fig.layout, no
browser) and every tab through AppTest on SmolLM2 (one on Gemma 3): the logit lens names " Paris",
a multi-token target and prompts of unequal length give a message, not an exception."""
import json
from urllib.parse import parse_qs

import numpy as np
import pytest

from core.figures import lens as fx
from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

INSIDE = by_url("inside")


def _text(at, kind: str) -> str:
    return " ".join(e.value for e in getattr(at, kind))


# --------------------------------------------------------------------------- figure builders

def test_lens_grid_rows_cells_and_escaping():
    tops = [["a", "<b>"], [" the", "averyveryverylongtoken"], [" Paris", "\n"]]     # (depth=3, pos=2)
    probs = np.array([[0.1, 0.9], [0.5, 0.2], [0.8, 0.3]])
    fig = fx.lens_grid(tops, probs, ["The", " is"])
    heat, cells = fig.data
    assert heat.type == "heatmap" and np.allclose(np.asarray(heat.z), probs) and (heat.zmin, heat.zmax) == (0, 1)
    assert list(heat.y) == ["embeddings", "after L0", "output (after L1)"]
    assert list(heat.x) == ["0:The", "1:·is"]
    assert cells.mode == "text" and len(cells.text) == 6
    assert "&lt;b&gt;" in cells.text and "<b>" not in cells.text and "·Paris" in cells.text
    assert "averyve…" in cells.text and "↵" in cells.text
    colours = dict(zip(cells.text, cells.textfont.color))
    assert colours["&lt;b&gt;"] == "#000000" and colours["a"] == "#FFFFFF"      # dark on light cells
    assert heat.customdata[1][1] == "averyveryverylongtoken"                     # hover keeps the whole token


def test_lens_grid_drops_cell_text_on_long_inputs():
    n = fx.CELL_TEXT_POSITIONS + 1
    fig = fx.lens_grid([["x"] * n] * 3, np.full((3, n), 0.5), ["t"] * n)
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    strip = fx.lens_grid([["x"]] * 3, np.full((3, 1), 0.5), [" is"], first_pos=4)     # one position, the last
    assert list(strip.data[0].x) == ["4:·is"]


def test_depth_line_linear_and_log():
    p = [0.0, 1e-5, 0.7]
    lin, log = fx.depth_line(p, " Paris"), fx.depth_line(p, " Paris", log=True)
    assert list(lin.data[0].y) == p and list(lin.data[0].x) == fx.depth_labels(3)
    assert log.layout.yaxis.type == "log" and log.data[0].y[0] == 1e-12
    assert "·Paris" in lin.layout.yaxis.title.text


def test_head_grid_is_centred_on_zero():
    z = np.array([[0.5, -2.0], [1.0, 0.0], [0.0, 0.1]])            # (layer, head)
    fig = fx.head_grid(z, " Rome")
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax) == (-2.0, 2.0) and list(heat.x) == ["H0", "H1"] and list(heat.y) == ["L0", "L1", "L2"]
    assert fig.layout.yaxis.autorange == "reversed"


def test_layer_bars_and_before_after():
    bars = fx.layer_bars([1.0, -0.5], [0.2, 0.3], " Paris")
    assert [t.name for t in bars.data] == ["MLP", "attention (all heads)"] and bars.layout.barmode == "group"
    assert list(bars.data[0].y) == [1.0, -0.5] and list(bars.data[0].x) == ["L0", "L1"]
    ba = fx.before_after([" Paris", "<i>"], [0.8, 0.1], [" the"], [0.5], title="zero-ablation")
    assert len(ba.data) == 2 and list(ba.data[0].y) == ["·Paris", "&lt;i&gt;"] and list(ba.data[1].x) == [0.5]
    assert ba.layout.title.text == "zero-ablation"


def test_patch_grid_labels_differing_positions():
    grid = np.array([[0.0, 1.0], [0.0, 0.2], [1.05, 0.0]])          # (layer, pos)
    fig = fx.patch_grid(grid, ["The", " France"], ["The", " Italy"])
    heat = fig.data[0]
    assert list(heat.x) == ["0:The", "1:·France / ·Italy"] and len(heat.y) == 3
    assert heat.zmax == pytest.approx(1.05) and heat.zmin == pytest.approx(-1.05)


# --------------------------------------------------------------------------- the page, tab by tab

def test_logit_lens_tab_shows_paris():
    at = run_page(INSIDE)
    assert problems(at) == []
    assert at.query_params["tab"] == "Logit lens" and at.query_params["text"] == "The capital of France is"
    assert len(at.get("plotly_chart")) == 2
    summary = at.caption[0].value
    assert "predicts “ Paris”" in summary and "depth output (after L29)" in summary
    assert "seed" not in _text(at, "markdown").lower() + _text(at, "caption").lower()


def test_logit_lens_tab_long_input_reads_the_last_positions():
    at = run_page(INSIDE, {"text": "The cat sat on the mat. " * 30})
    assert problems(at) == []
    summary = at.caption[0].value
    assert "The grid reads the last 128 of the 211 positions. At this length the cells carry no text" in summary
    data = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert len(data) == 1 and len(data[0]["x"]) == 128 and data[0]["x"][-1].startswith("210:")


def test_logit_lens_tab_on_gemma():
    at = run_page(INSIDE, {"model": "gemma3-270m", "lens_log": "1"})
    assert problems(at) == [] and _text(at, "warning") == ""
    assert "depth output (after L17)" in _text(at, "caption") and len(at.get("plotly_chart")) == 2


def test_patching_same_answer_on_gemma_is_explained():
    at = run_page(INSIDE, {"model": "gemma3-270m", "tab": "Patching"})     # both capital prompts → " the"
    assert problems(at) == []
    assert "no gap to restore" in _text(at, "warning") and not at.get("progress")
    assert at.query_params["patch_target"] == ""


def test_attribution_tab_names_heads_and_links_to_attention():
    at = run_page(INSIDE, {"tab": "Attribution", "target": " Rome", "open_head": "L29 H1"})
    assert problems(at) == [] and _text(at, "warning") == ""
    caps = _text(at, "caption")
    assert "The heads pushing “ Rome” most: L" in caps and "The MLP of layer" in caps
    link = at.get("page_link")[0].proto
    q = parse_qs(link.query_string)
    assert link.page == "attention" and q["attn_layer"] == ["29"] and q["attn_head"] == ["1"]
    assert q["attn_text"] == ["The capital of France is"] and q["model"] == ["smollm2-135m"]


def test_multi_token_target_is_a_warning():
    at = run_page(INSIDE, {"tab": "Attribution", "target": " Parisian capital"})
    assert problems(at) == []
    assert "not a single token" in _text(at, "warning") and "' Paris'" in _text(at, "warning")


def test_ablation_tab_and_sweep():
    at = run_page(INSIDE, {"tab": "Ablation", "abl_layer": "20", "part": "attn", "abl_head": "1", "how": "mean"})
    assert problems(at) == []
    assert "KL(before‖after) = " in at.caption[0].value and "press the button" in _text(at, "caption")
    at.button(key="inside-sweep").click().run()
    assert problems(at) == [] and len(at.get("plotly_chart")) == 2
    assert "In layer 20, knocking out MLP changes the prediction most" in _text(at, "caption")
    assert not at.get("progress")                                  # the bar is gone once done


def test_patching_tab_default_preset():
    at = run_page(INSIDE, {"tab": "Patching"})
    assert problems(at) == [] and _text(at, "warning") == ""
    assert at.query_params["clean"] == "The capital of France is"
    assert at.query_params["corrupted"] == "The capital of Italy is"
    assert "Patching position 3 “ France”" in at.caption[0].value and "last position" in at.caption[0].value
    assert len(at.get("plotly_chart")) == 1 and not at.get("progress")


def test_patching_prompts_of_unequal_length_are_refused():
    at = run_page(INSIDE, {"tab": "Patching", "clean": "The Eiffel Tower is in the city of",
                           "corrupted": "The Colosseum is in the city"})
    assert problems(at) == []
    assert "the clean one has 9, the corrupted one 8" in _text(at, "warning")
    assert not at.get("plotly_chart") and not at.get("progress")  # no stale progress bar


def test_hosted_patching_cap_costs_no_budget(monkeypatch):
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    text = "one two three four five six seven eight nine ten " * 4
    at = run_page(INSIDE, {"tab": "Patching", "clean": text + "red", "corrupted": text + "big"})
    assert problems(at) == []
    assert "up to 32 tokens" in _text(at, "warning")
    assert not at.session_state["atlas-budget"].get("patching")  # a refused input is not counted


def test_compare_tab_two_prompts():
    at = run_page(INSIDE, {"tab": "Compare two prompts"})
    assert problems(at) == []
    caps = _text(at, "caption")
    assert len(at.get("plotly_chart")) == 4 and "the answer “ Paris”" in caps and "the answer “ Rome”" in caps
