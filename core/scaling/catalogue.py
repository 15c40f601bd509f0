"""Real models on the compute-optimal chart, and per-modality allocation exponents.

The model list follows seed 002 (extended to the models issue #7 names), each with the paper or
model card that states its size and token count. Training compute is estimated as C ≈ 6·N·D
(for DeepSeek-V3, N = 37B *activated* parameters per token; the Chinchilla fits are for dense
models, so its label is indicative only). Classification compares N with N_opt(C) of the
selected Chinchilla fit (core.scaling.laws).

Per-modality allocations: seed 004 summarises Tong et al. 2026 (arXiv:2603.03276) without numbers.
Their fitted exponents reached us only through a reading note of the paper's Sec. 7 (the abstract,
checked, states the direction: vision is more data-hungry, MoE narrows the gap), so those rows are
marked secondary. Henighan et al. 2020, Table 1, is the primary per-modality source we could
check; its fits are Kaplan-style (early-stopped, non-embedding N), so they sit in the table, not
on the IsoFLOP-style chart.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.scaling import laws as scaling

NEAR_FACTOR = 1.5      # N within ×/÷1.5 of N_opt(C) counts as near-optimal


@dataclass(frozen=True)
class RealModel:
    name: str
    N: float                 # parameters (activated per token for MoE)
    D: float                 # training tokens
    year: int
    moe: bool
    source: str
    note: str = ""

    @property
    def C(self) -> float:
        return 6.0 * self.N * self.D


REAL_MODELS: list[RealModel] = [
    RealModel("GPT-3 175B", 175e9, 300e9, 2020, False, "Brown et al. 2020, Table 2.2 (arXiv:2005.14165)"),
    RealModel("Gopher 280B", 280e9, 300e9, 2021, False, "Rae et al. 2021, Table 1 (arXiv:2112.11446)"),
    RealModel("Chinchilla 70B", 70e9, 1.4e12, 2022, False, "Hoffmann et al. 2022, Table 4 (arXiv:2203.15556)"),
    RealModel("LLaMA-1 65B", 65.2e9, 1.4e12, 2023, False, "Touvron et al. 2023a, Table 2 (arXiv:2302.13971)"),
    RealModel("Llama 2 70B", 70e9, 2.0e12, 2023, False, "Touvron et al. 2023b, Table 1 (arXiv:2307.09288)"),
    RealModel("Llama 3 8B", 8e9, 15e12, 2024, False, "Meta Llama 3 model card, April 2024 ('15T+ tokens')"),
    RealModel("Llama 3 70B", 70e9, 15e12, 2024, False, "Meta Llama 3 model card, April 2024 ('15T+ tokens')"),
    RealModel("Llama 3.1 405B", 405e9, 15.6e12, 2024, False,
              "Llama Team 2024, 'The Llama 3 Herd of Models', Sec. 3 (arXiv:2407.21783)"),
    RealModel("DeepSeek-V3 (MoE)", 37e9, 14.8e12, 2024, True,
              "DeepSeek-AI 2024, DeepSeek-V3 Technical Report (arXiv:2412.19437)",
              "671B total, 37B activated per token; C uses the activated 37B"),
]

SEED_002_CLAIMS = {  # what seed 002's table says, to compare with the computed labels
    "GPT-3 175B": "under-trained", "Chinchilla 70B": "near-optimal",
    "Llama 2 70B": "over-trained", "Llama 3 70B": "over-trained",
}


def classify(N: float, D: float, fit="hoffmann") -> dict:
    """Where (N, D) sits relative to the compute-optimal allocation of C = 6ND under ``fit``."""
    C = 6.0 * N * D
    n_opt, d_opt = scaling.compute_optimal(C, fit)
    ratio = N / n_opt
    if ratio > NEAR_FACTOR:
        label = "under-trained"      # too many parameters, too few tokens for its compute
    elif ratio < 1 / NEAR_FACTOR:
        label = "over-trained"       # smaller model fed more tokens than compute-optimal
    else:
        label = "near-optimal"
    return {"C": C, "N_opt": n_opt, "D_opt": d_opt, "N / N_opt": ratio, "tokens/param": D / N,
            "optimal tokens/param": d_opt / n_opt, "label": label,
            "loss": scaling.chinchilla_loss(N, D, fit), "optimal loss": scaling.chinchilla_loss(n_opt, d_opt, fit)}


def models_table(fit="hoffmann") -> pd.DataFrame:
    rows = []
    for m in REAL_MODELS:
        c = classify(m.N, m.D, fit)
        seed = SEED_002_CLAIMS.get(m.name, "")
        rows.append({"model": m.name, "N": m.N, "D": m.D, "C (FLOPs)": c["C"], "year": m.year,
                     "MoE": m.moe, "tokens/param": c["tokens/param"],
                     "optimal tokens/param": c["optimal tokens/param"], "N_opt": c["N_opt"],
                     "N / N_opt": c["N / N_opt"], "label": c["label"],
                     "commonly stated": seed, "agrees with the claim": (seed == c["label"]) if seed else None,
                     "loss gap vs optimal": c["loss"] - c["optimal loss"], "note": m.note,
                     "source": m.source})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- modalities
ISOFLOP, KAPLAN_STYLE = "IsoFLOP (trained to the budget)", "Kaplan-style (early-stopped)"


@dataclass(frozen=True)
class Allocation:
    label: str
    modality: str            # "language", "vision", "video", "math"
    arch: str                # "dense", "MoE"
    a: float                 # N_opt ∝ C^a
    b: float                 # D_opt ∝ C^b (= 1 − a with C = 6ND)
    source: str
    secondary: bool          # the value reaches us through a secondary source
    style: str = ISOFLOP     # how the optimum was fitted; only ISOFLOP rows share the chart
    note: str = ""


_TONG = "Tong et al. 2026, 'Beyond Language Modeling', arXiv:2603.03276, Sec. 7"
_TONG_NOTE = ("as given in a secondary reading note of the paper, not checked against its text; a second "
              "note confirms the vision-language gap in a (0.10 dense, 0.05 MoE)")
_HENIGHAN = "Henighan et al. 2020, 'Scaling Laws for Autoregressive Generative Modeling', Table 1"

ALLOCATIONS: list[Allocation] = [
    Allocation("Language, dense (Chinchilla, Approach 1)", "language", "dense", 0.50, 0.50,
               "Hoffmann et al. 2022, Table 2", False),
    Allocation("Language, dense (Chinchilla, Approach 3)", "language", "dense", 0.46, 0.54,
               "Hoffmann et al. 2022, Table 2", False),
    Allocation("Language, dense (Llama 3)", "language", "dense", 0.47, 0.53,
               "Llama Team 2024, Sec. 3.2.1: tokens ∝ C^0.53", False, note="a = 1 − b with C = 6ND"),
    Allocation("Language, dense (Tong et al. 2026)", "language", "dense", 0.47, 0.53, _TONG, True,
               note=_TONG_NOTE),
    Allocation("Vision, dense (Tong et al. 2026)", "vision", "dense", 0.37, 0.63, _TONG, True,
               note=_TONG_NOTE),
    Allocation("Language, MoE, sparsity 16 (Tong et al. 2026)", "language", "MoE", 0.41, 0.59, _TONG, True,
               note=_TONG_NOTE + "; N = activated parameters"),
    Allocation("Vision, MoE, sparsity 16 (Tong et al. 2026)", "vision", "MoE", 0.36, 0.64, _TONG, True,
               note=_TONG_NOTE + "; N = activated parameters"),
    Allocation("Language, dense (Kaplan)", "language", "dense", 0.73, 0.27,
               "Kaplan et al. 2020, Sec. 6 and Table 6", False, KAPLAN_STYLE,
               "non-embedding N, C_min; early stopping"),
    Allocation("Image 32×32 pixels (Henighan)", "vision", "dense", 0.65, 0.35, _HENIGHAN, False, KAPLAN_STYLE,
               "b = 1 − a (C = 6NE); the paper prints only N_opt(C)"),
    Allocation("Video VQ 16×16×16 (Henighan)", "video", "dense", 0.71, 0.29, _HENIGHAN, False, KAPLAN_STYLE,
               "b = 1 − a (C = 6NE)"),
    Allocation("Math (Henighan)", "math", "dense", 0.69, 0.31, _HENIGHAN, False, KAPLAN_STYLE,
               "b = 1 − a (C = 6NE)"),
]


def get_allocation(label_start: str) -> Allocation:
    return next(a for a in ALLOCATIONS if a.label.startswith(label_start))


def allocation_curves(budgets, vision_b: float, ref_C: float = 1e21) -> pd.DataFrame:
    """Tokens-per-parameter D/N against C for each IsoFLOP-style allocation, normalised to 20
    tokens per parameter at ``ref_C``; plus a user-set *hypothetical* vision exponent ``vision_b``."""
    C = np.asarray(budgets, dtype=float)
    rows = []
    entries = [(al.label, al.b, al.source, al.secondary) for al in ALLOCATIONS if al.style == ISOFLOP]
    entries.append((f"Vision, hypothetical b = {vision_b:.2f} (your assumption)", vision_b,
                    "assumption set on this page", True))
    for label, b, source, secondary in entries:
        a = 1.0 - b
        ratio = 20.0 * (C / ref_C) ** (b - a)      # D/N ∝ C^(b − a)
        rows += [{"allocation": label, "C": c, "tokens/param": r, "a": a, "b": b, "source": source,
                  "secondary": secondary} for c, r in zip(C, ratio)]
    return pd.DataFrame(rows)


def single_allocation_mismatch(C: float, b_language: float, b_vision: float, ref_C: float = 1e21) -> dict:
    """If both modalities share one dense model sized for language, how far is it from what
    vision alone would want at C? Returns the N and tokens-per-parameter ratios."""
    a_l, a_v = 1 - b_language, 1 - b_vision
    n_ratio = (C / ref_C) ** (a_l - a_v)                 # N_language / N_vision (equal at ref_C)
    tpp_ratio = (C / ref_C) ** ((b_vision - a_v) - (b_language - a_l))
    return {"N_language / N_vision": n_ratio, "vision tokens/param ÷ language tokens/param": tpp_ratio}
