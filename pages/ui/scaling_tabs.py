"""Sections (tabs) of the scaling-laws page on the published laws: Kaplan, Chinchilla & IsoFLOP
and the budget. Each reads its widgets, makes one cached core call, builds one figure and renders
it; the maths lives in core.scaling.laws, the figures in core.figures.scaling. Real models and
modalities: pages.ui.scaling_models; your runs and the live sweep: pages.ui.scaling_runs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.scaling import laws as scaling
from core.figures import scaling as figs
from core.scaling.laws import fmt_count
from pages.ui import show_figure, show_table, url_multiselect, url_number, url_select, url_slider

BUDGETS = ["1e18", "1e19", "1e20", "1e21", "1e22", "1e23", "1e24", "1e25"]


@st.cache_data(max_entries=32, show_spinner=False)
def _isoflops(budgets: tuple[float, ...], fit: str):
    return scaling.isoflop_curves(list(budgets), fit)



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
