"""core.scaling.laws / scaling_fit / scaling_models / tiny_sweep: closed forms against numerics,
published worked points, fitter coverage, CSV validation messages, the tiny sweep at toy size."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from core.scaling import laws as scaling
from core.scaling import catalogue as scaling_models
from core.runtime.errors import InputError
from core.scaling.fit import (fit_chinchilla_form, fit_power_law, read_runs_csv, synthetic_runs,
                              validate_runs)
from core.runtime.paths import ASSETS


# --------------------------------------------------------------------------- closed form vs numeric
@pytest.mark.parametrize("fit", ["hoffmann", "epoch"])
@pytest.mark.parametrize("C", [1e19, 5.76e23, 1e26])
def test_closed_form_optimum_matches_numeric_minimisation(fit, C):
    n_opt, d_opt = scaling.compute_optimal(C, fit)
    assert 6 * n_opt * d_opt == pytest.approx(C, rel=1e-12)
    # minimise the same L(N, C/6N) over log N numerically
    res = optimize.minimize_scalar(lambda lg: scaling.chinchilla_loss(10 ** lg, C / (6 * 10 ** lg), fit),
                                   bounds=(3, 16), method="bounded", options={"xatol": 1e-10})
    assert 10 ** res.x == pytest.approx(n_opt, rel=1e-4)
    # and the optimum is a minimum: moving N either way along the IsoFLOP raises the loss
    lo = scaling.chinchilla_loss(n_opt, d_opt, fit)
    for k in (0.8, 1.25):
        assert scaling.chinchilla_loss(n_opt * k, d_opt / k, fit) > lo


def test_isoflop_minimum_is_the_curve_minimum():
    (c,) = scaling.isoflop_curves([1e21], "epoch", n_points=401)
    assert c.loss.min() >= c.loss_opt - 1e-12
    assert c.N[np.argmin(c.loss)] == pytest.approx(c.N_opt, rel=0.05)


def test_exponents_follow_from_fit_constants():
    h, e = scaling.FITS["hoffmann"], scaling.FITS["epoch"]
    assert h.a == pytest.approx(0.28 / 0.62) and h.a + h.b == pytest.approx(1)
    assert e.a == pytest.approx(0.3658 / (0.3478 + 0.3658))
    n1, _ = scaling.compute_optimal(1e21, "epoch")
    n2, _ = scaling.compute_optimal(1e23, "epoch")
    assert math.log10(n2 / n1) / 2 == pytest.approx(e.a, rel=1e-9)


def test_epoch_refit_gives_about_20_tokens_per_param_at_chinchilla_budget():
    n, d = scaling.compute_optimal(5.76e23, "epoch")
    assert 15 < d / n < 25 and 60e9 < n < 85e9
    n, d = scaling.compute_optimal(5.76e23, "hoffmann")   # Approach 3's rounded constants: far more tokens
    assert d / n > 60


def test_chinchilla_loss_worked_point():
    # 1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28
    expected = 1.69 + 406.4 / 70e9 ** 0.34 + 410.7 / 1.4e12 ** 0.28
    assert scaling.chinchilla_loss(70e9, 1.4e12) == pytest.approx(expected)
    assert scaling.chinchilla_loss(70e9, 1.4e12) == pytest.approx(1.9366, abs=1e-4)
    # 1.8172 + 482.01 / 70e9**0.3478 + 2085.43 / 1.4e12**0.3658 (E to the 4 digits of Table 1)
    assert scaling.chinchilla_loss(70e9, 1.4e12, "epoch") == pytest.approx(1.9739, abs=1e-4)


# --------------------------------------------------------------------------- Kaplan
def test_kaplan_worked_points():
    assert scaling.kaplan_loss(N=1e9) == pytest.approx((8.8e13 / 1e9) ** 0.076)
    assert scaling.kaplan_loss(N=1e9) == pytest.approx(2.3756, abs=1e-4)
    assert scaling.kaplan_loss(D=1e10) == pytest.approx(2.2624, abs=1e-4)
    assert scaling.kaplan_loss(N=8.8e13) == pytest.approx(1.0)        # L = 1 at N = N_c
    # joint law with Table 2 constants
    assert scaling.kaplan_loss(1e9, 1e10) == pytest.approx(
        ((6.4e13 / 1e9) ** (0.076 / 0.103) + 1.8e13 / 1e10) ** 0.103)
    # L(C_min) = (3.1e8 PF-days / C)^0.05; at C = 3.1e8 PF-days the loss is 1
    assert scaling.kaplan_loss_compute(3.1e8 * scaling.PF_DAY) == pytest.approx(1.0)
    assert scaling.kaplan_loss_compute(1e21) == pytest.approx((3.1e8 / (1e21 / 8.64e19)) ** 0.05)


def test_kaplan_joint_limits_and_bad_input():
    # D → ∞: the joint law reduces to a pure N law with the joint constants
    assert scaling.kaplan_loss(1e9, 1e40) == pytest.approx((6.4e13 / 1e9) ** 0.076, rel=1e-6)
    with pytest.raises(InputError):
        scaling.kaplan_loss()
    with pytest.raises(InputError, match="N"):
        scaling.kaplan_loss(N=-5)


# --------------------------------------------------------------------------- budget
def test_budget_from_gpus_and_cost():
    C = scaling.cluster_flops(989e12, 1000, 10, 0.4)
    assert C == pytest.approx(989e12 * 1000 * 10 * 86400 * 0.4)
    plan = scaling.plan_budget(C, "epoch", peak_flops=989e12, mfu=0.4, price_per_gpu_hour=2.0)
    assert plan.gpu_hours == pytest.approx(1000 * 10 * 24)
    assert plan.cost == pytest.approx(2.0 * 240_000)
    assert plan.N_opt * plan.D_opt * 6 == pytest.approx(C)
    with pytest.raises(InputError, match="MFU"):
        scaling.cluster_flops(989e12, 1, 1, 1.5)


# --------------------------------------------------------------------------- real models
def test_real_models_labels():
    t = scaling_models.models_table("epoch").set_index("model")
    assert t.loc["GPT-3 175B", "label"] == "under-trained"
    assert t.loc["Chinchilla 70B", "label"] == "near-optimal"
    assert t.loc["Llama 3 8B", "label"] == "over-trained"
    assert t.loc["Llama 3 8B", "tokens/param"] == pytest.approx(1875)
    assert len(t) == 9 and t["source"].str.len().min() > 10
    # seed 002 says Llama 2 70B is over-trained; under the Epoch fit it is near-optimal
    assert t.loc["Llama 2 70B", "label"] == "near-optimal"
    assert not t.loc["Llama 2 70B", "agrees with the claim"]


def test_allocation_curves_pinned_and_diverging():
    df = scaling_models.allocation_curves([1e21, 1e25], vision_b=0.65)
    at_ref = df[df["C"] == 1e21]["tokens/param"]
    assert np.allclose(at_ref, 20.0)
    hyp = df[df["allocation"].str.contains("hypothetical")]
    assert hyp["tokens/param"].iloc[-1] > 20 * 10 ** (4 * 0.29)
    mm = scaling_models.single_allocation_mismatch(1e25, 0.5, 0.65)
    assert mm["N_language / N_vision"] == pytest.approx(10 ** (4 * 0.15))
    # only IsoFLOP-style fits share the chart; Kaplan-style (early-stopped) ones stay in the table
    on_chart = set(df["allocation"])
    assert "Language, dense (Kaplan)" not in on_chart and "Math (Henighan)" not in on_chart
    assert "Vision, dense (Tong et al. 2026)" in on_chart


def test_allocations_sources_and_secondary_marks():
    al = {a.label: a for a in scaling_models.ALLOCATIONS}
    for a in al.values():
        assert a.a + a.b == pytest.approx(1.0) and len(a.source) > 20
        assert a.secondary == a.label.endswith("(Tong et al. 2026)")      # Tong's numbers: a reading note
    gap = lambda arch: (scaling_models.get_allocation(f"Language, {arch}").a
                        - scaling_models.get_allocation(f"Vision, {arch}").a)
    assert scaling_models.get_allocation("Language, dense (Tong").a == 0.47
    assert gap("dense (Tong") == pytest.approx(0.10) and gap("MoE") == pytest.approx(0.05)   # corroborated figures


# --------------------------------------------------------------------------- fitter
@pytest.mark.parametrize("true_k,noise,seed", [(-0.076, 0.01, 1), (-0.3, 0.03, 2), (0.5, 0.02, 3)])
def test_power_law_fit_recovers_exponent_within_ci(true_k, noise, seed):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e5, 1e10, 15)
    y = 3.0 * x ** true_k * np.exp(rng.normal(0, noise, x.size))
    f = fit_power_law(x, y, n_boot=300)
    assert f.ci[0] <= true_k <= f.ci[1]
    assert f.ci[1] - f.ci[0] < 0.05 + 10 * noise
    assert scaling.fit_power_law is fit_power_law     # stable API re-export


def test_power_law_with_floor_recovers_exponent():
    rng = np.random.default_rng(4)
    x = np.geomspace(1e4, 1e9, 14)
    y = (1.5 + 20 * x ** -0.25) * np.exp(rng.normal(0, 0.005, x.size))
    f = fit_power_law(x, y, offset=True, n_boot=100)
    assert f.ci[0] <= -0.25 <= f.ci[1]
    assert f.E == pytest.approx(1.5, abs=0.15)
    lo, hi = f.band(np.array([1e11]))
    assert lo[0] <= f.predict(1e11) <= hi[0]


def test_chinchilla_form_fit_recovers_known_exponents():
    runs = synthetic_runs(lambda n, d: scaling.chinchilla_loss(n, d, "epoch"), np.geomspace(1e7, 1e9, 6),
                          [1e9, 4e9, 1.6e10], noise=0.005, seed=11)
    fit = fit_chinchilla_form(runs["N"], runs["D"], runs["loss"], n_boot=100)   # 30 resamples gave a CI too narrow
    assert fit.ci["alpha"][0] <= 0.3478 <= fit.ci["alpha"][1]
    assert fit.ci["beta"][0] <= 0.3658 <= fit.ci["beta"][1]
    n, d, loss, (lo, hi) = fit.optimal(1e22)
    assert lo <= loss <= hi and 6 * n * d == pytest.approx(1e22)


def test_fitter_rejects_too_few_points():
    with pytest.raises(InputError, match="at least 3"):
        fit_power_law([1, 2], [3, 4])


# --------------------------------------------------------------------------- CSV validation
def _csv(text: str) -> bytes:
    return text.strip().encode()


@pytest.mark.parametrize("text,pattern", [
    ("N,D\n1,2\n3,4\n5,6", "missing column 'loss'"),
    ("N,loss\n1e6,3.2\nabc,3.0\n1e8,2.8", r"Row 2, column 'N': 'abc' is not a number"),
    ("N,loss\n1e6,3.2\n1e7,\n1e8,2.8", r"Row 2, column 'loss' is empty"),
    ("N,loss\n1e6,3.2\n1e7,NaN\n1e8,2.8", r"Row 2, column 'loss' is NaN"),
    ("N,loss\n1e6,3.2\n1e7,3.0\n0,2.8", r"Row 3, column 'N' is 0"),
    ("N,D,loss\n1e6,1e9,3.2\n1e7,-5,3.0\n1e8,1e9,2.8", r"Row 2, column 'D' is -5"),
    ("N,loss\n1e6,3.2\n1e7,3.0", "at least 3"),
    ("N,loss\n1e6,3.2\n1e7,3.0\n1e6,3.2", r"Rows 1 and 3 are the same point"),
])
def test_csv_validation_messages_name_row_and_column(text, pattern):
    with pytest.raises(InputError, match=pattern):
        read_runs_csv(_csv(text))


def test_csv_aliases_and_example_file():
    df = validate_runs(pd.DataFrame({"Params": ["1e6", "2e6", "4e6"], "Val_Loss": [3, 2.9, 2.8]}))
    assert list(df.columns) == ["N", "loss"]
    ex = read_runs_csv((ASSETS / "scaling" / "example_runs.csv").read_bytes())
    assert list(ex.columns) == ["N", "D", "loss"] and len(ex) == 18


def test_upload_cap(monkeypatch):
    monkeypatch.setenv("ATLAS_HOSTED", "1")
    with pytest.raises(InputError, match="upload cap"):
        read_runs_csv(b"N,loss\n" + b"1,2\n" * 2_000_000)


# --------------------------------------------------------------------------- tiny sweep (toy size)
def test_tiny_sweep_runs_and_reports_progress():
    from dataclasses import replace

    import torch

    from core.scaling import tiny_sweep
    seen = []
    threads = torch.get_num_threads()
    cfg = replace(tiny_sweep.PRESETS["test"], widths=(8, 16, 24))
    res = tiny_sweep.run_sweep(cfg, lambda f, msg: seen.append(f))
    assert torch.get_num_threads() == threads        # restored
    assert list(res.runs["d_model"]) == [8, 16, 24]
    assert res.runs["N (non-embedding)"].is_monotonic_increasing
    assert np.all(np.isfinite(res.runs["val loss"])) and res.runs["val loss"].max() < 6
    assert seen[-1] == pytest.approx(1.0) and res.fit is not None
