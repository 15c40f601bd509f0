"""AppTest for the scaling-laws page: main controls through the URL, bad link values, the
Chinchilla-form fit, the tiny sweep (toy preset) and the hosted cap. File uploads cannot be
driven by AppTest: CSV validation is tested through core (tests/test_scaling.py) and in a real
browser."""
import time
from dataclasses import replace

import pytest

from core.scaling import laws as scaling
from core.scaling import tiny_sweep
from pages.ui.nav import by_url
from tests.apptest_util import problems, run_page

INFO = by_url("scaling")


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


TABS = ["Kaplan 2020", "Chinchilla & IsoFLOP", "Budget", "Real models", "Vision vs language",
        "Fit your runs", "Live tiny sweep"]


def test_url_state_per_tab():
    """Each tab is in the link (lazy tabs: only the open one runs) and its controls come from it."""
    at = run_page(INFO, {"fit": "epoch", "kN": "10.0", "kD": "12.0"})
    assert problems(at) == [] and at.query_params["tab"] == "Kaplan 2020"
    m = _metrics(at)
    assert m["L(N) alone"] == f"{scaling.kaplan_loss(N=1e10):.3f}"
    assert m["Joint L(N, D)"] == f"{scaling.kaplan_loss(1e10, 1e12):.3f}"
    assert "Predicted loss" not in m                              # the Budget tab did not run

    at = run_page(INFO, {"tab": "Budget", "fit": "epoch", "lc": "24.0", "price": "3.5"})
    assert problems(at) == [] and at.query_params["tab"] == "Budget"
    m = _metrics(at)
    plan = scaling.plan_budget(1e24, "epoch", peak_flops=989e12, mfu=0.4, price_per_gpu_hour=3.5)
    assert m["Predicted loss"] == f"{plan.loss:.3f}"
    assert m["Cost (USD)"] == f"${scaling.fmt_count(plan.cost)}"
    assert "L(N) alone" not in m

    at = run_page(INFO, {"tab": "Chinchilla & IsoFLOP", "fit": "epoch", "iso": "1e20|1e24"})
    captions = " ".join(c.value for c in at.caption)
    assert problems(at) == [] and "C = 1e+24" in captions and "Epoch" in captions
    assert at.query_params["fit"] == "epoch"


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_draws(tab):
    at = run_page(INFO, {"tab": tab})
    assert problems(at) == []
    assert at.query_params["tab"] == tab
    assert len(at.get("plotly_chart")) + len(at.dataframe) >= 1 or tab == "Live tiny sweep"


def test_vision_tab_marks_secondary_numbers():
    at = run_page(INFO, {"tab": "Vision vs language"})
    assert problems(at) == []
    assert any("secondary source" in w.value for w in at.warning)
    caps = " ".join(c.value for c in at.caption)
    assert "at 1e26 vision (dense, Tong) wants 399 tokens/param vs language's 40" in caps  # 20·10^(5·0.26), 20·10^(5·0.06)


def test_bad_tab_in_link_falls_back_with_a_message():
    at = run_page(INFO, {"tab": "Nope"})
    assert problems(at) == [] and at.query_params["tab"] == "Kaplan 2020"
    assert any("“tab”" in w.value for w in at.warning)


def test_gpu_budget_mode():
    at = run_page(INFO, {"tab": "Budget", "bmode": "GPUs × days", "gpu": "A100", "count": "512", "days": "20.0", "mfu": "0.5"})
    assert problems(at) == []
    C = scaling.cluster_flops(312e12, 512, 20.0, 0.5)
    assert _metrics(at)["Compute (FLOPs)"] == f"{C:.2e}"


def test_bad_link_values_fall_back_with_a_message():
    for tab, bad in [("Kaplan 2020", {"fit": "bogus", "kN": "99"}), ("Chinchilla & IsoFLOP", {"iso": "1e99"}),
                     ("Vision vs language", {"vis_b": "abc"}), ("Fit your runs", {"runs": "nope"})]:
        at = run_page(INFO, {"tab": tab, **bad})
        assert problems(at) == []
        warnings = " ".join(w.value for w in at.warning)
        for key in bad:
            assert f"“{key}”" in warnings


def test_chinchilla_form_fit_of_example_runs():
    at = run_page(INFO, {"tab": "Fit your runs", "fitkind": "Chinchilla form L(N, D)", "targetC": "22.0"})
    assert problems(at) == []
    captions = " ".join(c.value for c in at.caption)
    assert "α = 0.3" in captions          # the example was generated with α = 0.3478
    assert any(m.label.startswith("Compute-optimal at C") for m in at.metric)


def test_empty_isoflop_selection_and_seed_corrections_shown():
    at = run_page(INFO, {"tab": "Chinchilla & IsoFLOP", "iso": "", "fit": "hoffmann"})
    assert problems(at) == []
    assert any("Pick at least one budget" in i.value for i in at.info)
    at = run_page(INFO, {"tab": "Real models", "fit": "hoffmann"})
    assert any("A commonly repeated label disagrees" in w.value for w in at.warning)


@pytest.mark.parametrize("hosted", [False, True])
def test_tiny_sweep_button_toy_preset(monkeypatch, hosted):
    toy = replace(tiny_sweep.PRESETS["test"], widths=(8, 12, 16))
    monkeypatch.setitem(tiny_sweep.PRESETS, "hosted" if hosted else "full", toy)
    if hosted:
        monkeypatch.setenv("ATLAS_HOSTED", "1")
    at = run_page(INFO, {"tab": "Live tiny sweep"})
    next(b for b in at.button if b.label == "Train the sweep").click().run()
    assert problems(at) == []
    for _ in range(120):                  # the sweep trains in a worker thread; the page polls it
        if "Tiny-model exponent" in " ".join(c.value for c in at.caption):
            break
        time.sleep(0.5)
        at.run()
        assert all(b.label != "Train the sweep" for b in at.button)      # running: no second start
    assert problems(at) == []
    captions = " ".join(c.value for c in at.caption)
    assert "Tiny-model exponent" in captions and "kept for this session" in captions
    if hosted:
        assert any("Hosted mode" in i.value for i in at.info)
