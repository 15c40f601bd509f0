"""Real models on the compute-optimal chart, and per-modality allocation exponents.

The model list follows seed 002 (extended to the models issue #7 names), each with the paper or
model card that states its size and token count. Training compute is estimated as C ≈ 6·N·D
(for DeepSeek-V3, N = 37B *activated* parameters per token; the Chinchilla fits are for dense
models, so its label is indicative only). Classification compares N with N_opt(C) of the
selected Chinchilla fit (core.scaling).

Per-modality allocations follow seed 004 (a secondary summary of Tong et al. 2026,
arXiv:2603.03276); only exponents we could check against a primary source carry numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import scaling

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
                     "seed 002 says": seed, "agrees with seed": (seed == c["label"]) if seed else None,
                     "loss gap vs optimal": c["loss"] - c["optimal loss"], "note": m.note,
                     "source": m.source})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- modalities
@dataclass(frozen=True)
class Allocation:
    label: str
    modality: str            # "language", "vision"
    arch: str                # "dense", "MoE"
    a: float | None          # N_opt ∝ C^a (None: direction only, no checked number)
    b: float | None          # D_opt ∝ C^b
    source: str
    secondary: bool          # the value (or claim) reaches us through a secondary source
    note: str = ""


ALLOCATIONS: list[Allocation] = [
    Allocation("Language, dense (Chinchilla, Approach 1)", "language", "dense", 0.50, 0.50,
               "Hoffmann et al. 2022, Table 2", False),
    Allocation("Language, dense (Chinchilla, Approach 3)", "language", "dense", 0.46, 0.54,
               "Hoffmann et al. 2022, Table 2", False),
    Allocation("Language, dense (Kaplan)", "language", "dense", 0.73, 0.27,
               "Kaplan et al. 2020, Sec. 6", False, "different setup: early stopping, non-embedding N"),
    Allocation("Language, dense (Llama 3)", "language", "dense", 0.47, 0.53,
               "Llama Team 2024, Sec. 3.2.1: tokens ∝ C^0.53", False, "a = 1 − b with C = 6ND"),
    Allocation("Vision vs language, dense (Tong et al. 2026)", "vision", "dense", None, None,
               "Tong et al. 2026, 'Beyond Language Modeling', arXiv:2603.03276, via seed 004", True,
               "direction only: vision's optimum puts more of C into data (larger b) than language's"),
    Allocation("Language, MoE (Tong et al. 2026)", "language", "MoE", None, None,
               "Tong et al. 2026, arXiv:2603.03276, via seed 004", True,
               "direction only: with MoE, language's optimum shifts toward data, closer to vision's"),
]


def allocation_curves(budgets, vision_b: float, ref_C: float = 1e21) -> pd.DataFrame:
    """Tokens-per-parameter D/N against C for each numeric allocation, normalised to 20 tokens
    per parameter at ``ref_C``; plus a user-set *hypothetical* vision exponent ``vision_b``."""
    C = np.asarray(budgets, dtype=float)
    rows = []
    entries = [(al.label, al.b, al.source, al.secondary) for al in ALLOCATIONS if al.b is not None]
    entries.append((f"Vision, hypothetical b = {vision_b:.2f} (your assumption)", vision_b,
                    "assumption set on this page; Tong et al. 2026 report only that vision's b is larger",
                    True))
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
