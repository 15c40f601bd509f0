"""Scaling-laws tabs on real models: published models placed on the compute-optimal frontier,
and vision vs language allocations. Maths: core.scaling.laws, core.scaling.catalogue."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.scaling import laws as scaling
from core.scaling import catalogue as scaling_models
from core.figures import scaling as figs
from core.scaling.laws import fmt_count
from pages.ui import show_figure, show_table, url_slider


@st.cache_data(max_entries=4, show_spinner=False)
def _frontier_fig(fit: str, src: str):
    table = scaling_models.models_table(fit)
    C = np.geomspace(1e21, 1e26, 40)
    frontiers = {x.label: scaling.compute_optimal(C, k) for k, x in scaling.FITS.items()}
    return figs.frontier_figure(C, frontiers, table, source=src)


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
