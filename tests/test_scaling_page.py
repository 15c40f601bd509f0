"""AppTest for the scaling-laws page: main controls through the URL, bad link values, the
Chinchilla-form fit, the tiny sweep (toy preset) and the hosted cap. File uploads cannot be
driven by AppTest: CSV validation is tested through core (tests/test_scaling.py) and in a real
browser."""
from dataclasses import replace

import pytest

from core import scaling, tiny_sweep
from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

INFO = by_url("scaling")


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_defaults_and_url_state():
    at = run_page(INFO, {"fit": "epoch", "kN": "10.0", "kD": "12.0", "iso": "1e20|1e24",
                         "lc": "24.0", "price": "3.5"})
    assert problems(at) == []
    m = _metrics(at)
    assert m["L(N) alone"] == f"{scaling.kaplan_loss(N=1e10):.3f}"
    assert m["Joint L(N, D)"] == f"{scaling.kaplan_loss(1e10, 1e12):.3f}"
    plan = scaling.plan_budget(1e24, "epoch", peak_flops=989e12, mfu=0.4, price_per_gpu_hour=3.5)
    assert m["Predicted loss"] == f"{plan.loss:.3f}"
    assert m["Cost (USD)"] == f"${scaling.fmt_count(plan.cost)}"
    assert len(at.get("plotly_chart")) >= 7
    captions = " ".join(c.value for c in at.caption)
    assert "C = 1e+24" in captions and "Epoch" in captions
    assert at.query_params["fit"] == "epoch"


def test_gpu_budget_mode():
    at = run_page(INFO, {"bmode": "GPUs × days", "gpu": "A100", "count": "512", "days": "20.0", "mfu": "0.5"})
    assert problems(at) == []
    C = scaling.cluster_flops(312e12, 512, 20.0, 0.5)
    assert _metrics(at)["Compute (FLOPs)"] == f"{C:.2e}"


def test_bad_link_values_fall_back_with_a_message():
    at = run_page(INFO, {"fit": "bogus", "kN": "99", "iso": "1e99", "vis_b": "abc", "runs": "nope"})
    assert problems(at) == []
    warnings = " ".join(w.value for w in at.warning)
    for key in ("fit", "kN", "iso", "vis_b", "runs"):
        assert f"“{key}”" in warnings


def test_chinchilla_form_fit_of_example_runs():
    at = run_page(INFO, {"fitkind": "Chinchilla form L(N, D)", "targetC": "22.0"})
    assert problems(at) == []
    captions = " ".join(c.value for c in at.caption)
    assert "α = 0.3" in captions          # the example was generated with α = 0.3478
    assert any(m.label.startswith("Compute-optimal at C") for m in at.metric)


def test_empty_isoflop_selection_and_seed_corrections_shown():
    at = run_page(INFO, {"iso": "", "fit": "hoffmann"})
    assert problems(at) == []
    assert any("Pick at least one budget" in i.value for i in at.info)
    assert any("Seed 002 disagrees" in w.value for w in at.warning)


@pytest.mark.parametrize("hosted", [False, True])
def test_tiny_sweep_button_toy_preset(monkeypatch, hosted):
    toy = replace(tiny_sweep.PRESETS["test"], widths=(8, 12, 16))
    monkeypatch.setitem(tiny_sweep.PRESETS, "hosted" if hosted else "full", toy)
    if hosted:
        monkeypatch.setenv("ATLAS_HOSTED", "1")
    at = run_page(INFO)
    next(b for b in at.button if b.label == "Train the sweep").click().run()
    assert problems(at) == []
    captions = " ".join(c.value for c in at.caption)
    assert "Tiny-model exponent" in captions and "kept for this session" in captions
    if hosted:
        assert any("Hosted mode" in i.value for i in at.info)
