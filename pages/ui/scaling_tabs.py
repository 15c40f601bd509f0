"""Sections (tabs) of the scaling-laws page. Each reads its widgets, makes one cached core call,
builds one figure and renders it; the maths lives in core.scaling.laws*, the figures in
core.figures.scaling."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.runtime import limits
from core.scaling import laws as scaling
from core.scaling import fit as scaling_fit
from core.scaling import catalogue as scaling_models
from core.scaling import tiny_sweep
from core.figures import scaling as figs
from core.runtime.paths import ASSETS
from core.scaling.laws import fmt_count
from pages.ui.jobs import background
from pages.ui import show_figure, show_table, url_multiselect, url_number, url_select, url_slider, url_toggle

EXAMPLE_CSV = ASSETS / "scaling" / "example_runs.csv"
BUDGETS = ["1e18", "1e19", "1e20", "1e21", "1e22", "1e23", "1e24", "1e25"]


@st.cache_data(max_entries=32, show_spinner=False)
def _isoflops(budgets: tuple[float, ...], fit: str):
    return scaling.isoflop_curves(list(budgets), fit)


@st.cache_data(max_entries=16, show_spinner="Fitting…")
def _fit_power(x: tuple, y: tuple, offset: bool):
    return scaling_fit.fit_power_law(np.array(x), np.array(y), offset=offset)


@st.cache_data(max_entries=16, show_spinner="Fitting the Chinchilla form (Huber, L-BFGS, bootstrap)…")
def _fit_chinchilla(N: tuple, D: tuple, L: tuple):
    return scaling_fit.fit_chinchilla_form(np.array(N), np.array(D), np.array(L))


@st.cache_data(max_entries=4, show_spinner=False)
def _frontier_fig(fit: str, src: str):
    table = scaling_models.models_table(fit)
    C = np.geomspace(1e21, 1e26, 40)
    frontiers = {x.label: scaling.compute_optimal(C, k) for k, x in scaling.FITS.items()}
    return figs.frontier_figure(C, frontiers, table, source=src)


@st.cache_data(max_entries=64, show_spinner=False)
def _kaplan_fig(N: float, D: float):
    xs = {"L(N)": np.geomspace(1e5, 1e12, 60), "L(D)": np.geomspace(1e7, 10 ** 13.5, 60),
          "L(C_min)": np.geomspace(1e15, 1e26, 60)}
    curves = {"L(N)": (xs["L(N)"], scaling.kaplan_loss(N=xs["L(N)"])),
              "L(D)": (xs["L(D)"], scaling.kaplan_loss(D=xs["L(D)"])),
              "L(C_min)": (xs["L(C_min)"], scaling.kaplan_loss_compute(xs["L(C_min)"]))}
    points = {"L(N)": (N, scaling.kaplan_loss(N=N)), "L(D)": (D, scaling.kaplan_loss(D=D)),
              "L(C_min)": (6 * N * D, scaling.kaplan_loss_compute(6 * N * D))}
    data = pd.concat([pd.DataFrame({"law": k, "x": v[0], "loss": v[1]}) for k, v in curves.items()])
    return figs.kaplan_figure(curves, points, scaling.KAPLAN.source), data


# --------------------------------------------------------------------------- Kaplan
def kaplan() -> None:
    k = scaling.KAPLAN
    st.markdown(r"Kaplan et al. 2020: $L(N)=(N_c/N)^{\alpha_N}$, $L(D)=(D_c/D)^{\alpha_D}$, "
                r"$L(C_{min})=(C_c/C_{min})^{\alpha_C}$ with $N_c$ = 8.8·10¹³ non-embedding parameters, "
                r"α_N = 0.076, $D_c$ = 5.4·10¹³ tokens, α_D = 0.095, $C_c$ = 3.1·10⁸ PF-days, α_C = 0.050. "
                r"Joint: $L(N,D)=[(N_c/N)^{\alpha_N/\alpha_D}+D_c/D]^{\alpha_D}$ — **with its own fit** "
                r"(Table 2: N_c = 6.4·10¹³, D_c = 1.8·10¹³, α_N = 0.076, α_D = 0.103), not the "
                "single-variable constants.")
    c1, c2 = st.columns(2)
    with c1:
        lN = url_slider("log₁₀ N (non-embedding parameters)", "kN", 5.0, 12.0, 9.0, step=0.1)
    with c2:
        lD = url_slider("log₁₀ D (training tokens)", "kD", 7.0, 13.5, 10.5, step=0.1)
    N, D = 10 ** lN, 10 ** lD
    m = st.columns(4)
    m[0].metric("L(N) alone", f"{scaling.kaplan_loss(N=N):.3f}")
    m[1].metric("L(D) alone", f"{scaling.kaplan_loss(D=D):.3f}")
    m[2].metric("Joint L(N, D)", f"{scaling.kaplan_loss(N, D):.3f}")
    m[3].metric("L(C_min), C = 6ND", f"{scaling.kaplan_loss_compute(6 * N * D):.3f}")
    st.caption(f"N = {fmt_count(N)}, D = {fmt_count(D)} tokens, C = 6ND = {6 * N * D:.2e} FLOPs "
               f"({6 * N * D / scaling.PF_DAY:.3g} PF-days). Loss in nats/token on WebText2; not comparable "
               "with Chinchilla's MassiveText losses.")
    fig, data = _kaplan_fig(N, D)
    show_figure(fig, "scaling-kaplan-power-laws", data=data,
                summary=f"Each ×10 in N cuts L(N) by {1 - 10 ** -k.alpha_N:.1%}, each ×10 in D cuts L(D) by "
                        f"{1 - 10 ** -k.alpha_D:.1%}, each ×10 in compute cuts L(C_min) by {1 - 10 ** -k.alpha_C:.1%}.")
    Ds = np.geomspace(1e7, 10 ** 13.5, 80)
    series = {f"N = {fmt_count(n)}": scaling.kaplan_loss(n, Ds) for n in (1e6, 1e8, 1e10, 1e12)}
    show_figure(figs.lines_loglog(Ds, series, x_title="D, tokens", y_title="joint L(N, D)",
                                  source=k.source + " (Table 2 joint fit)",
                                  point=(D, scaling.kaplan_loss(N, D), f"N={fmt_count(N)}")),
                "scaling-kaplan-joint", data=pd.DataFrame({"D": Ds, **series}),
                summary=f"At N = {fmt_count(N)}, more data stops helping near L = "
                        f"{scaling.kaplan_loss(N, 1e30):.3f} (the N-limited floor); at D = {fmt_count(D)} "
                        f"the joint loss is {scaling.kaplan_loss(N, D):.3f}.")


# --------------------------------------------------------------------------- Chinchilla
def chinchilla(fit: str) -> None:
    f = scaling.get_fit(fit)
    st.markdown(rf"$L(N,D)=E+A/N^{{\alpha}}+B/D^{{\beta}}$ with **{f.label}**: E = {f.E}, A = {f.A}, "
                rf"B = {f.B}, α = {f.alpha}, β = {f.beta}. Closed form at $C=6ND$: "
                rf"$N_{{opt}}=G\,(C/6)^{{a}}$, $D_{{opt}}=G^{{-1}}(C/6)^{{b}}$ with a = β/(α+β) = {f.a:.3f}, "
                rf"b = {f.b:.3f}, G = (αA/βB)^(1/(α+β)) = {f.G:.4g}.")
    chosen = url_multiselect("IsoFLOP budgets (FLOPs)", BUDGETS, "iso", default=["1e19", "1e21", "1e23"])
    if not chosen:
        st.info("Pick at least one budget to draw its IsoFLOP curve.")
        return
    curves = _isoflops(tuple(sorted(float(c) for c in chosen)), fit)
    data = pd.concat([pd.DataFrame({"C": c.C, "N": c.N, "D": c.D, "loss": c.loss}) for c in curves])
    best = curves[-1]
    show_figure(figs.isoflop_figure(curves, fit_label=f.label, source=f.source), "scaling-isoflop", data=data,
                summary=f"At C = {best.C:.0e} FLOPs the minimum is N_opt = {fmt_count(best.N_opt)} with "
                        f"D_opt = {fmt_count(best.D_opt)} tokens ({best.D_opt / best.N_opt:.1f} tokens/param), "
                        f"loss {best.loss_opt:.3f}.")
    C = np.geomspace(1e18, 1e26, 9)
    n, d = scaling.compute_optimal(C, fit)
    table = pd.DataFrame({"C (FLOPs)": [f"{c:.0e}" for c in C], "N_opt": [fmt_count(x) for x in n],
                          "D_opt (tokens)": [fmt_count(x) for x in d], "tokens/param": np.round(d / n, 1),
                          "loss": np.round(scaling.chinchilla_loss(n, d, fit), 4)})
    show_table(table, "scaling-frontier-table",
               summary=f"Closed-form frontier under {f.label}: tokens/param goes from {d[0] / n[0]:.1f} at 1e18 "
                       f"to {d[-1] / n[-1]:.1f} at 1e26 FLOPs."
                       + (" This is more than the ≈20 tokens/param usually quoted from Chinchilla: that figure "
                          "comes from Hoffmann et al.'s Approaches 1 and 2 (and the Chinchilla model itself, 70B "
                          "parameters on 1.4T tokens). Approach 3's published, rounded constants put the optimum "
                          "at the larger ratios above; Besiroglu et al. 2024 (*Chinchilla Scaling: A replication "
                          "attempt*) refit Approach 3 and recover ≈20 — pick the Epoch refit to see it."
                          if "Approach 3" in f.label else ""))
    ex = pd.DataFrame([{"approach": e.label, "short": e.label.split(" (")[0].replace("Hoffmann ", "")
                        .replace(" of Approach 3", ""), "a": e.a, "b": e.b, "a 80% CI": e.ci_a, "b 80% CI": e.ci_b,
                        "source": e.source} for e in scaling.EXPONENTS])
    show_figure(figs.exponents_figure(ex, source="Hoffmann et al. 2022 Table 2; Kaplan et al. 2020; "
                                                 "Besiroglu et al. 2024 (derived)"),
                "scaling-exponents", data=ex,
                summary="Chinchilla's three approaches put a ≈ b ≈ 0.5 (scale N and D equally); Kaplan's "
                        "0.73/0.27 favoured parameters.")
    st.caption("Hoffmann et al. Table 2 intervals are 10th–90th percentiles of a bootstrap. Approach 1's b is "
               "0.50 (0.501–0.512), not 0.49. With Approach 3's rounded constants the frontier asks for "
               "≈90 tokens/param; the Epoch refit restores ≈20, consistent with Chinchilla itself.")


def budget(fit: str) -> None:
    mode = url_select("Budget from", ["FLOPs", "GPUs × days"], "bmode", radio=True)
    c1, c2, c3 = st.columns(3)
    with c1:
        gpu = url_select("GPU", list(scaling.GPUS), "gpu")
        g = scaling.GPUS[gpu]
        peak = url_number("Peak dense BF16 TFLOP/s (editable)", f"peak_{gpu.split()[0].lower()}", 1.0, 20000.0,
                          g.peak_flops / 1e12, step=1.0, help=g.source)
    with c2:
        mfu = url_slider("MFU (model FLOPs utilisation)", "mfu", 0.05, 0.9, 0.4, step=0.01)
        price = url_number("Price per GPU-hour (USD, editable)", "price", 0.0, 1000.0, 2.0, step=0.1)
    with c3:
        if mode == "FLOPs":
            lc = url_slider("log₁₀ C (training FLOPs)", "lc", 18.0, 27.0, 23.0, step=0.1)
            C = 10 ** lc
        else:
            count = url_number("GPU count", "count", 1, 200_000, 1024)
            days = url_number("Days", "days", 0.1, 730.0, 30.0, step=0.5)
            C = scaling.cluster_flops(peak * 1e12, count, days, mfu)
    plan = scaling.plan_budget(C, fit, peak_flops=peak * 1e12, mfu=mfu, price_per_gpu_hour=price)
    m = st.columns(5)
    m[0].metric("Compute (FLOPs)", f"{plan.flops:.2e}")
    m[1].metric("Optimal N", fmt_count(plan.N_opt))
    m[2].metric("Optimal D (tokens)", fmt_count(plan.D_opt))
    m[3].metric("Predicted loss", f"{plan.loss:.3f}")
    m[4].metric("Cost (USD)", f"${fmt_count(plan.cost)}", help=f"${plan.cost:,.0f}: {plan.gpu_hours:,.0f} "
                f"GPU-hours × ${price}/h")
    st.caption(f"{g.source}. Stated peaks are dense (no 2:4 sparsity); edit them for other parts. GPU-hours = "
               f"C / (peak × MFU) = {plan.gpu_hours:,.0f}; the $/GPU-hour is an assumption you set. "
               f"{plan.tokens_per_param:.1f} tokens per parameter.")
    curve = _isoflops((C,), fit)[0]
    show_figure(figs.isoflop_figure([curve], fit_label=scaling.get_fit(fit).label, source=scaling.get_fit(fit).source),
                "scaling-budget-isoflop", data=pd.DataFrame({"N": curve.N, "D": curve.D, "loss": curve.loss}),
                summary=f"Your budget of {C:.2e} FLOPs: the best split is {fmt_count(plan.N_opt)} parameters on "
                        f"{fmt_count(plan.D_opt)} tokens for loss {plan.loss:.3f}, costing about ${plan.cost:,.0f}.")


# --------------------------------------------------------------------------- real models
def real_models(fit: str) -> None:
    f = scaling.get_fit(fit)
    table = scaling_models.models_table(fit)
    src = "sizes/tokens: each model's paper or card (table); frontiers: Hoffmann et al. 2022; Besiroglu et al. 2024"
    counts = table["label"].value_counts().to_dict()
    show_figure(_frontier_fig(fit, src), "scaling-real-models",
                data=table.drop(columns=["note"]),
                summary=f"Under {f.label}: " + ", ".join(f"{v} {k}" for k, v in counts.items()) +
                        f" (near-optimal = N within ×{scaling_models.NEAR_FACTOR} of N_opt for its C ≈ 6ND).")
    shown = table[["model", "N", "D", "C (FLOPs)", "tokens/param", "optimal tokens/param", "N / N_opt", "label",
                   "commonly stated", "source"]].copy()
    for col in ("N", "D"):
        shown[col] = shown[col].map(fmt_count)
    shown["C (FLOPs)"] = shown["C (FLOPs)"].map(lambda x: f"{x:.2e}")
    for col in ("tokens/param", "optimal tokens/param", "N / N_opt"):
        shown[col] = shown[col].round(2)
    show_table(shown, "scaling-real-models-table")
    wrong = table[(table["commonly stated"] != "") & (table["agrees with the claim"] == False)]  # noqa: E712
    if len(wrong):
        st.warning("A commonly repeated label disagrees with the numbers under this fit: " + "; ".join(
            f"{r['model']} is often called “{r['commonly stated']}” but computes as **{r['label']}** "
            f"({r['tokens/param']:.0f} tokens/param vs an optimum of {r['optimal tokens/param']:.0f})"
            for _, r in wrong.iterrows()) + ".",
            icon=":material/fact_check:")
    st.markdown(
        "**Over-training on purpose.** Chinchilla minimises *training* compute for a given loss. A model that "
        "will serve trillions of tokens also pays inference cost ≈ 2N FLOPs per token, forever. Llama 3 8B saw "
        "15T tokens — about 1,900 per parameter, ~100× the ≈20 the Epoch refit asks for — so it reaches a loss "
        "a compute-optimal 8B model never would, at an 8B serving price. The extra training compute buys "
        "cheaper inference (Sardana et al. 2023, 'Beyond Chinchilla-Optimal'). DeepSeek-V3 is a MoE: its point "
        "uses the 37B activated parameters, and the dense Chinchilla fits only indicate its regime. Llama 3.1 "
        "405B was sized by Meta's own IsoFLOP fit (402B on 16.55T tokens at 3.8·10²⁵ FLOPs, Llama 3 paper "
        "Sec. 3.2.1); here it sits near the ×1.5 boundary. Under Approach 3's rounded constants even "
        "Chinchilla comes out 'under-trained': the inconsistency Besiroglu et al. 2024 pointed out.")


# --------------------------------------------------------------------------- vision vs language
def modalities() -> None:
    al = pd.DataFrame([{"allocation": a.label, "modality": a.modality, "architecture": a.arch,
                        "a (N ∝ C^a)": f"{a.a:.2f}", "b (D ∝ C^b)": f"{a.b:.2f}", "fit": a.style,
                        "secondary source": "yes" if a.secondary else "no", "note": a.note, "source": a.source}
                       for a in scaling_models.ALLOCATIONS])
    show_table(al, "scaling-modality-allocations",
               summary="Hoffmann, Llama 3, Kaplan and Henighan are read from the papers; Tong et al. 2026's "
                       "four rows come from a secondary summary (marked); summaries of the paper usually give no numbers.")
    st.warning("**Tong et al. 2026's exponents are from a secondary source.** Summaries usually state only the direction "
               "(vision is more data-hungry; MoE narrows the gap), which the paper's abstract confirms. The "
               "numbers a ≈ 0.47/0.37 (language/vision, dense) and 0.41/0.36 (MoE, sparsity 16) come from a "
               "reading note of the paper's Sec. 7 that we could not check against the paper; they are drawn "
               "dashed.", icon=":material/menu_book:")
    st.caption("Not on the chart: Kaplan 2020 and Henighan et al. 2020 fitted early-stopped runs (N_opt ∝ C^≈0.7), "
               "a different definition of 'optimal' from IsoFLOP fits trained to the budget, so their exponents "
               "are not comparable with Chinchilla's ≈ 0.5. Henighan's point still stands beside Tong's: with "
               "Kaplan-style fits, image, video and math share nearly one exponent (0.64–0.75).")
    tong_v, tong_l = scaling_models.get_allocation("Vision, dense (Tong"), scaling_models.get_allocation(
        "Language, dense (Tong")
    vb = url_slider("Vision data exponent b (D ∝ C^b) for the dashed 'hypothetical' curve", "vis_b", 0.5, 0.85,
                    tong_v.b, step=0.01, help=f"Default {tong_v.b}: Tong et al.'s vision value (secondary).")
    C = np.geomspace(1e18, 1e26, 30)
    df = scaling_models.allocation_curves(C, vb)
    end = df[df["C"] == C[-1]].set_index("allocation")["tokens/param"]
    show_figure(figs.allocation_figure(df, source="Hoffmann 2022; Llama Team 2024; dashed: Tong et al. 2026 via a "
                                                  "secondary summary, and your assumption"),
                "scaling-modalities", data=df,
                summary=f"All curves are pinned to 20 tokens/param at 1e21 FLOPs; at 1e26 vision (dense, Tong) wants "
                        f"{end[tong_v.label]:.0f} tokens/param vs language's {end[tong_l.label]:.0f}; your "
                        f"b = {vb:.2f} gives {df[df['b'] == vb]['tokens/param'].iloc[-1]:.0f}.")
    mm = scaling_models.single_allocation_mismatch(1e25, tong_l.b, vb)
    st.markdown(
        f"**One dense model, two appetites.** At 10²⁵ FLOPs (pinned equal at 10²¹), with language's b = "
        f"{tong_l.b} and vision's b = {vb:.2f}, a model sized for language is {mm['N_language / N_vision']:.1f}× "
        f"larger than vision's optimum, and vision wants {mm['vision tokens/param ÷ language tokens/param']:.1f}× "
        "more tokens per parameter. A single dense allocation must under-feed one modality. Tong et al. report "
        "that a MoE moves language toward vision's data-hungry optimum (a 0.47 → 0.41 with sparsity 16, vs vision "
        "0.37 → 0.36): total parameters give language capacity, while activated parameters stay small enough "
        "for vision's token budget.")


# --------------------------------------------------------------------------- fit your runs
def read_runs(source: str) -> pd.DataFrame | None:
    """The table of runs from the example, an upload, or the editable grid (validated); None
    while no file is uploaded."""
    if source == "upload a CSV":
        cap = limits.current().max_upload_bytes
        up = st.file_uploader(f"CSV with columns N, loss and optionally D (≤ {cap // 2**20} MB)", type=["csv"])
        if up is None:
            st.info("Upload a CSV to fit it (the example file shows the format).")
            return None
        return scaling_fit.read_runs_csv(up.getvalue())
    if source == "edit a table":
        seed = pd.read_csv(EXAMPLE_CSV, dtype=str)
        edited = st.data_editor(seed, num_rows="dynamic", key="scaling-runs-editor")
        return scaling_fit.validate_runs(edited)
    return scaling_fit.read_runs_csv(EXAMPLE_CSV.read_bytes())


def fit_runs() -> None:
    st.markdown("The standard recipe: *train small models, fit the curve, predict a bigger one.* The bundled "
                "example was **generated from the Epoch refit L(N, D) with 1 % log-normal noise** (6 sizes × 3 "
                "token counts, seed 7; `core.scaling.fit.synthetic_runs`), so a good fit should recover "
                "α ≈ 0.35, β ≈ 0.37.")
    source = url_select("Runs", ["example CSV", "upload a CSV", "edit a table"], "runs", radio=True)
    runs = read_runs(source)
    if runs is None:
        return
    st.download_button("Example CSV", EXAMPLE_CSV.read_bytes(), "example_runs.csv", "text/csv", on_click="ignore")
    has_d = "D" in runs.columns
    kinds = (["Chinchilla form L(N, D)"] if has_d else []) + ["power law L(N)"]   # the form α, β belong to
    kind = url_select("Fit", kinds, "fitkind", radio=True)
    if kind.startswith("power"):
        _fit_power_section(runs, has_d)
    else:
        _fit_chinchilla_section(runs)


def _fit_power_section(runs: pd.DataFrame, has_d: bool) -> None:
    offset = url_toggle("Add an irreducible floor E (y = E + c·N^k)", "offset")
    sub = runs
    if has_d and runs["D"].nunique() > 1:
        sub = runs[runs["D"] == runs["D"].max()]
        st.caption(f"Runs differ in D: the power law in N uses the {len(sub)} runs at the largest D "
                   f"({fmt_count(runs['D'].max())} tokens). Use the Chinchilla form to use them all.")
    if len(sub) < 3:
        st.warning(f"Only {len(sub)} runs share the largest D; a power law needs 3.")
        return
    fit = _fit_power(tuple(sub["N"]), tuple(sub["loss"]), offset)
    target = 10 ** url_slider("Extrapolate to log₁₀ N", "targetN", 3.0, 13.0,
                              float(np.round(np.log10(sub["N"].max()) + 1, 1)), step=0.1)
    ext = scaling_fit.extrapolate(fit, [target])
    x_line = np.geomspace(sub["N"].min() / 2, max(target, sub["N"].max()) * 2, 80)
    lo, hi = fit.band(x_line)
    fig = figs.fit_figure(sub["N"], sub["loss"], x_line=x_line, y_line=fit.predict(x_line), band=(lo, hi),
                          targets=ext, x_title="N, parameters", y_title="loss",
                          source="your runs; fit: least squares in log space, pairs bootstrap (core.scaling.fit)")
    r = ext.iloc[0]
    show_figure(fig, "scaling-fit-power", data=pd.DataFrame({"N": x_line, "fit": fit.predict(x_line), "lo": lo,
                                                             "hi": hi}),
                summary=f"Exponent {fit.exponent:.4f} (95% CI {fit.ci[0]:.4f} to {fit.ci[1]:.4f}); at "
                        f"N = {fmt_count(target)} the fit predicts {r.prediction:.3f} ({r.lo:.3f}–{r.hi:.3f}).")
    st.caption(f"The exponent is negative because loss falls as N grows: L ∝ N^{fit.exponent:.3f}. It is not the "
               "Chinchilla α: without a floor E, a pure power law in N also absorbs the irreducible loss and the "
               "fixed-D term B/D^β, both of which flatten the curve, so |exponent| comes out well below α ≈ 0.35. "
               "Add the floor E, or fit the Chinchilla form, to recover α.")


def _fit_chinchilla_section(runs: pd.DataFrame) -> None:
    if len(runs) < 6:
        st.warning(f"The Chinchilla form has 5 parameters; it needs at least 6 runs (got {len(runs)}).")
        return
    fit = _fit_chinchilla(tuple(runs["N"]), tuple(runs["D"]), tuple(runs["loss"]))
    params = pd.DataFrame([{"parameter": k, "estimate": getattr(fit, k), "95% CI low": lo, "95% CI high": hi}
                           for k, (lo, hi) in fit.ci.items()])
    show_table(params, "scaling-fit-chinchilla-params",
               summary=f"α = {fit.alpha:.3f} ({fit.ci['alpha'][0]:.3f}–{fit.ci['alpha'][1]:.3f}), "
                       f"β = {fit.beta:.3f} ({fit.ci['beta'][0]:.3f}–{fit.ci['beta'][1]:.3f}); Huber δ = 1e-3 on "
                       "log loss, L-BFGS from a grid of starts, pairs bootstrap.")
    lc = url_slider("Extrapolate to log₁₀ C (FLOPs)", "targetC", 15.0, 26.0, 21.0, step=0.1)
    n, d, loss, (lo, hi) = fit.optimal(10 ** lc)
    st.metric(f"Compute-optimal at C = 1e{lc:g}", f"loss {loss:.3f} ({lo:.3f}–{hi:.3f})",
              help=f"N_opt {fmt_count(n)}, D_opt {fmt_count(d)} tokens under your fit")
    Ns = np.geomspace(runs["N"].min() / 2, runs["N"].max() * 4, 60)
    series = {f"fit, D = {fmt_count(dv)}": fit.predict(Ns, dv) for dv in sorted(runs["D"].unique())}
    fig = figs.lines_loglog(Ns, series, x_title="N, parameters", y_title="loss", log_y=True,
                            source="your runs; Chinchilla-form fit (core.scaling.fit.fit_chinchilla_form)")
    figs.add_points(fig, runs["N"], runs["loss"], [f"D = {fmt_count(v)}" for v in runs["D"]])
    show_figure(fig, "scaling-fit-chinchilla", data=runs.assign(fitted=fit.predict(runs["N"], runs["D"])),
                summary=f"Fitted E = {fit.E:.3f}; at C = 1e{lc:g} the fit's optimum is {fmt_count(n)} parameters "
                        f"on {fmt_count(d)} tokens, loss {loss:.3f} (band {lo:.3f}–{hi:.3f}).")


# --------------------------------------------------------------------------- tiny sweep
def sweep() -> None:
    hosted = limits.hosted()
    cfg = tiny_sweep.PRESETS["hosted" if hosted else "full"]
    st.markdown(f"Train **{len(cfg.widths)} tiny character-level GPTs** (d_model {', '.join(map(str, cfg.widths))}; "
                f"{cfg.n_layer} layers) **here, now**, on gensim's bundled *lee_background* news corpus, each for "
                f"{cfg.steps} steps × {cfg.batch} × {cfg.context} characters, then fit validation loss against N "
                "with the same fitter as above. These models are tiny (10³–10⁵ parameters): the method is the "
                "point, not the exponent.")
    if hosted:
        st.info(f"Hosted mode: the sweep is capped to {len(cfg.widths)} models × {cfg.steps} steps.")
    res = background(f"scaling-sweep-{'hosted' if hosted else 'full'}", "training",
                     lambda report: tiny_sweep.run_sweep(cfg, report),
                     button="Train the sweep", icon=":material/play_arrow:")
    if res is None:
        st.caption("Takes about 1–3 minutes on a 2-core CPU, less on a GPU; the result is kept for this session.")
        return
    st.caption(f"Trained on {res.device} in {res.seconds:.0f} s (kept for this session).")
    runs = res.runs
    show_table(runs.round(4), "scaling-sweep-runs")
    show_figure(figs.curves_figure(res.curves, source="trained here: core.scaling.tiny_sweep on lee_background.cor"),
                "scaling-sweep-curves", data=res.curves,
                summary=f"Final validation loss falls from {runs['val loss'].iloc[0]:.3f} to "
                        f"{runs['val loss'].iloc[-1]:.3f} nats/char as N grows.")
    if res.fit is not None:
        f = res.fit
        x_line = np.geomspace(runs["N (non-embedding)"].min() / 2, runs["N (non-embedding)"].max() * 10, 60)
        lo, hi = f.band(x_line)
        ext = scaling_fit.extrapolate(f, [runs["N (non-embedding)"].max() * 10])
        show_figure(figs.fit_figure(runs["N (non-embedding)"], runs["val loss"], x_line=x_line,
                                    y_line=f.predict(x_line), band=(lo, hi), targets=ext,
                                    x_title="N, non-embedding parameters", y_title="validation loss (nats/char)",
                                    source="trained here (core.scaling.tiny_sweep); fit: core.scaling.fit.fit_power_law",
                                    label="tiny models"),
                    "scaling-sweep-fit", data=runs,
                    summary=f"Tiny-model exponent {f.exponent:.3f} (95% CI {f.ci[0]:.3f} to {f.ci[1]:.3f}); "
                            f"10× the largest model is predicted at {ext.prediction[0]:.3f} nats/char.")
