"""Scaling laws: Kaplan et al. (2020) power laws and the Chinchilla parametric loss
(Hoffmann et al. 2022, Approach 3) with the Epoch AI refit (Besiroglu et al. 2024).

Units: N = parameters, D = training tokens, C = training FLOPs with the usual C ≈ 6·N·D,
loss in nats per token. Kaplan's N counts non-embedding parameters and its loss is on WebText2;
the Chinchilla fits are on MassiveText. Losses from different papers are not comparable.

Stable API (see README): ``chinchilla_loss``, ``compute_optimal``, ``kaplan_loss`` and
``fit_power_law`` (defined in ``core.scaling.fit``, re-exported here).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.runtime.errors import InputError

PF_DAY = 1e15 * 86_400          # FLOPs in one petaflop/s-day (Kaplan's compute unit)


# --------------------------------------------------------------------------- Chinchilla
@dataclass(frozen=True)
class ChinchillaFit:
    """L(N, D) = E + A / N^alpha + B / D^beta."""
    key: str
    label: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    source: str

    @property
    def a(self) -> float:
        """N_opt ∝ C^a in closed form: a = beta / (alpha + beta)."""
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        """D_opt ∝ C^b: b = alpha / (alpha + beta)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def G(self) -> float:
        return (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))


FITS: dict[str, ChinchillaFit] = {f.key: f for f in [
    ChinchillaFit("hoffmann", "Hoffmann et al. 2022, Approach 3", 1.69, 406.4, 410.7, 0.34, 0.28,
                  "Hoffmann et al. 2022, 'Training Compute-Optimal Large Language Models', eq. (10) "
                  "and Appendix D.2 (arXiv:2203.15556)"),
    ChinchillaFit("epoch", "Epoch AI refit (Besiroglu et al. 2024)", 1.8172, 482.01, 2085.43, 0.3478, 0.3658,
                  "Besiroglu, Erdil, Barnett & You 2024, 'Chinchilla Scaling: A replication attempt', "
                  "Table 1 (arXiv:2404.10102)"),
]}


def get_fit(fit: str | ChinchillaFit) -> ChinchillaFit:
    if isinstance(fit, ChinchillaFit):
        return fit
    if fit not in FITS:
        raise InputError(f"Unknown fit {fit!r}; choose one of {', '.join(FITS)}.")
    return FITS[fit]


def _positive(name: str, x) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise InputError(f"{name} must be a positive, finite number (got {x!r}).")
    return arr


def _out(x: np.ndarray):
    return float(x) if x.ndim == 0 else x


def chinchilla_loss(N, D, fit: str | ChinchillaFit = "hoffmann"):
    """Predicted loss E + A/N^α + B/D^β; scalars or numpy arrays (broadcast)."""
    f = get_fit(fit)
    n, d = _positive("N (parameters)", N), _positive("D (tokens)", D)
    return _out(f.E + f.A / n ** f.alpha + f.B / d ** f.beta)


def compute_optimal(C, fit: str | ChinchillaFit = "hoffmann") -> tuple:
    """(N_opt, D_opt) minimising L(N, D) subject to 6·N·D = C, in closed form:
    N_opt = G·(C/6)^a, D_opt = (C/6)^b / G with G = (αA / βB)^(1/(α+β))."""
    f = get_fit(fit)
    c6 = _positive("C (FLOPs)", C) / 6.0
    n_opt = f.G * c6 ** f.a
    return _out(n_opt), _out(c6 / n_opt)


def optimal_loss(C, fit: str | ChinchillaFit = "hoffmann"):
    n, d = compute_optimal(C, fit)
    return chinchilla_loss(n, d, fit)


@dataclass(frozen=True)
class IsoFlop:
    C: float
    N: np.ndarray       # parameters along the curve
    D: np.ndarray       # tokens, D = C / (6 N)
    loss: np.ndarray
    N_opt: float
    D_opt: float
    loss_opt: float


def isoflop_curves(budgets, fit: str | ChinchillaFit = "hoffmann", *, n_points: int = 80,
                   span: float = 30.0) -> list[IsoFlop]:
    """Loss against N at fixed C = 6ND for each budget, N from N_opt/span to N_opt·span."""
    out = []
    for C in np.atleast_1d(_positive("C (FLOPs)", budgets)):
        n_opt, d_opt = compute_optimal(float(C), fit)
        N = np.geomspace(n_opt / span, n_opt * span, n_points)
        D = C / (6.0 * N)
        out.append(IsoFlop(float(C), N, D, chinchilla_loss(N, D, fit), n_opt, d_opt,
                           chinchilla_loss(n_opt, d_opt, fit)))
    return out


# --------------------------------------------------------------------------- Kaplan
@dataclass(frozen=True)
class KaplanConstants:
    """Kaplan et al. 2020 (arXiv:2001.08361). Single-variable laws: eqs. (1.1)-(1.3), Table 5;
    joint L(N, D): eq. (1.5) with its own fit, Table 2 (different constants)."""
    N_c: float = 8.8e13
    alpha_N: float = 0.076
    D_c: float = 5.4e13
    alpha_D: float = 0.095
    C_c_pf_days: float = 3.1e8
    alpha_C: float = 0.050
    joint_N_c: float = 6.4e13
    joint_alpha_N: float = 0.076
    joint_D_c: float = 1.8e13
    joint_alpha_D: float = 0.103
    source: str = ("Kaplan et al. 2020, 'Scaling Laws for Neural Language Models' "
                   "(arXiv:2001.08361): eqs. 1.1-1.3 and 1.5, Tables 2 and 5")


KAPLAN = KaplanConstants()


def kaplan_loss(N=None, D=None, *, k: KaplanConstants = KAPLAN):
    """Kaplan's loss: L(N) = (N_c/N)^α_N if only N is given, L(D) = (D_c/D)^α_D if only D,
    and the joint L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D (Table 2 constants) if both."""
    if N is None and D is None:
        raise InputError("kaplan_loss needs N, D or both.")
    if D is None:
        return _out((k.N_c / _positive("N (parameters)", N)) ** k.alpha_N)
    if N is None:
        return _out((k.D_c / _positive("D (tokens)", D)) ** k.alpha_D)
    n, d = _positive("N (parameters)", N), _positive("D (tokens)", D)
    return _out(((k.joint_N_c / n) ** (k.joint_alpha_N / k.joint_alpha_D)
                 + k.joint_D_c / d) ** k.joint_alpha_D)


def kaplan_loss_compute(C_flops, *, k: KaplanConstants = KAPLAN):
    """L(C_min) = (C_c / C_min)^α_C with C_c in PF-days; the argument is in FLOPs."""
    return _out((k.C_c_pf_days / (_positive("C (FLOPs)", C_flops) / PF_DAY)) ** k.alpha_C)


# --------------------------------------------------------------------------- allocation exponents
@dataclass(frozen=True)
class Exponents:
    label: str
    a: float            # N_opt ∝ C^a
    b: float            # D_opt ∝ C^b
    ci_a: str
    ci_b: str
    source: str


EXPONENTS: list[Exponents] = [
    Exponents("Kaplan et al. 2020", 0.73, 0.27, "", "",
              "Kaplan et al. 2020, Sec. 6 (N ∝ C^0.73; D = B·S ∝ C^0.27)"),
    Exponents("Hoffmann Approach 1 (training-curve envelope)", 0.50, 0.50, "0.488–0.502", "0.501–0.512",
              "Hoffmann et al. 2022, Table 2"),
    Exponents("Hoffmann Approach 2 (IsoFLOP profiles)", 0.49, 0.51, "0.462–0.534", "0.483–0.529",
              "Hoffmann et al. 2022, Table 2"),
    Exponents("Hoffmann Approach 3 (parametric fit)", 0.46, 0.54, "0.454–0.455", "0.542–0.543",
              "Hoffmann et al. 2022, Table 2"),
    Exponents("Epoch refit of Approach 3 (implied β/(α+β))", FITS["epoch"].a, FITS["epoch"].b, "", "",
              "derived here from Besiroglu et al. 2024, Table 1"),
]


# --------------------------------------------------------------------------- budget and cost
@dataclass(frozen=True)
class GPU:
    name: str
    peak_flops: float       # dense BF16 tensor-core FLOP/s, no sparsity
    source: str


GPUS: dict[str, GPU] = {g.name: g for g in [
    GPU("H100 SXM", 989e12, "NVIDIA H100 datasheet: 989 TFLOP/s dense BF16 (1,979 with 2:4 sparsity)"),
    GPU("A100", 312e12, "NVIDIA A100 datasheet: 312 TFLOP/s dense BF16 (624 with 2:4 sparsity)"),
]}


@dataclass(frozen=True)
class BudgetPlan:
    flops: float
    gpu_hours: float | None
    cost: float | None
    N_opt: float
    D_opt: float
    loss: float
    tokens_per_param: float


def cluster_flops(peak_flops: float, count: int, days: float, mfu: float) -> float:
    """Useful training FLOPs = peak × GPUs × seconds × model-FLOPs utilisation."""
    if not 0 < mfu <= 1:
        raise InputError(f"MFU must be in (0, 1]; got {mfu}.")
    for name, v in (("peak FLOP/s", peak_flops), ("GPU count", count), ("days", days)):
        _positive(name, v)
    return float(peak_flops) * count * days * 86_400 * mfu


def plan_budget(flops: float, fit: str | ChinchillaFit = "hoffmann", *, peak_flops: float | None = None,
                mfu: float | None = None, price_per_gpu_hour: float | None = None) -> BudgetPlan:
    """Optimal N and D, predicted loss and (when a GPU is given) GPU-hours and cost for a budget."""
    n, d = compute_optimal(flops, fit)
    hours = cost = None
    if peak_flops and mfu:
        hours = flops / (peak_flops * mfu) / 3600.0
        if price_per_gpu_hour is not None:
            cost = hours * price_per_gpu_hour
    return BudgetPlan(float(flops), hours, cost, n, d, chinchilla_loss(n, d, fit), d / n)


def fmt_count(x: float) -> str:
    """1.4e12 -> '1.4T', 7e10 -> '70B'."""
    for div, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suf}"
    return f"{x:.3g}"


from core.scaling.fit import fit_power_law  # noqa: E402  (re-export: stable API)

__all__ = ["chinchilla_loss", "compute_optimal", "kaplan_loss", "fit_power_law", "FITS", "KAPLAN",
           "isoflop_curves", "plan_budget", "cluster_flops", "GPUS", "EXPONENTS", "optimal_loss"]
