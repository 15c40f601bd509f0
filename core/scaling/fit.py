"""Fit scaling laws to your own runs: a power law y = c·x^k (optionally plus a floor E) and the
Chinchilla form L = E + A/N^α + B/D^β fitted the way Hoffmann et al. 2022 (Sec. 3.3, App. D.2)
did it: Huber loss (δ = 1e-3) on log L against log-sum-exp of the three terms, L-BFGS started
from the best points of a grid of initialisations. Confidence intervals come from a pairs
bootstrap; extrapolations carry the bootstrap's percentile band.

Also validates tables of runs (CSV or an edited table): every message names the row and column.
Row numbers count data rows from 1 (the header is not a row).
"""
from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize
from threadpoolctl import threadpool_limits

from core.runtime import limits
from core.runtime.errors import InputError

MAX_ROWS = 5_000
ALIASES = {"n": "N", "params": "N", "parameters": "N", "n_params": "N",
           "d": "D", "tokens": "D", "n_tokens": "D", "data": "D",
           "loss": "loss", "l": "loss", "val_loss": "loss", "eval_loss": "loss"}


# --------------------------------------------------------------------------- validation
def validate_runs(df: pd.DataFrame, *, min_points: int = 3) -> pd.DataFrame:
    """Clean a table of runs to float columns N, loss and (if present) D.

    Raises InputError naming the row and column for: missing columns, text in numeric cells,
    empty/NaN cells, zeros or negatives, too few points, duplicated points, too many rows.
    """
    if df is None or len(df.columns) == 0:
        raise InputError("The table is empty: it needs columns N and loss (and optionally D).")
    mapping = {}
    for col in df.columns:
        key = ALIASES.get(str(col).strip().lower())
        if key and key not in mapping.values():
            mapping[col] = key
    missing = [c for c in ("N", "loss") if c not in mapping.values()]
    if missing:
        found = ", ".join(repr(str(c)) for c in df.columns) or "none"
        raise InputError(f"The table is missing column {' and '.join(repr(m) for m in missing)}. "
                         f"It needs N and loss (D optional); found columns: {found}.")
    df = df[list(mapping)].rename(columns=mapping)
    if len(df) > MAX_ROWS:
        raise InputError(f"The table has {len(df):,} rows; the cap is {MAX_ROWS:,}. Nothing is cut silently.")
    out = {}
    for col in [c for c in ("N", "D", "loss") if c in df.columns]:
        vals = []
        for i, raw in enumerate(df[col].tolist(), start=1):
            vals.append(_cell(raw, i, col))
        out[col] = vals
    clean = pd.DataFrame(out)
    if len(clean) < min_points:
        raise InputError(f"Only {len(clean)} run(s); a fit needs at least {min_points} points.")
    dup = clean.duplicated(keep=False)
    if dup.any():
        rows = [i + 1 for i in np.flatnonzero(dup.to_numpy())]
        first = clean.iloc[rows[0] - 1]
        same = [r for r in rows if clean.iloc[r - 1].equals(first)]
        desc = ", ".join(f"{c}={first[c]:g}" for c in clean.columns)
        raise InputError(f"Rows {' and '.join(map(str, same[:2]))} are the same point ({desc}); "
                         "remove the duplicate (columns " + ", ".join(clean.columns) + ").")
    return clean


def _cell(raw, row: int, col: str) -> float:
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or (isinstance(raw, str) and not raw.strip()):
        raise InputError(f"Row {row}, column '{col}' is empty (NaN); every run needs a value.")
    try:
        v = float(str(raw).strip().replace("_", "")) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        raise InputError(f"Row {row}, column '{col}': {str(raw)[:40]!r} is not a number.") from None
    if np.isnan(v):
        raise InputError(f"Row {row}, column '{col}' is NaN; every run needs a value.")
    if not np.isfinite(v):
        raise InputError(f"Row {row}, column '{col}' is infinite.")
    if v <= 0:
        raise InputError(f"Row {row}, column '{col}' is {v:g}; values must be > 0 (the fit works on log axes).")
    return v


def read_runs_csv(data: bytes, *, min_points: int = 3) -> pd.DataFrame:
    """Parse uploaded CSV bytes (size-capped) and validate them."""
    cap = limits.current().max_upload_bytes
    if len(data) > cap:
        raise InputError(f"The file is {len(data) / 2**20:.1f} MB; the upload cap is {cap / 2**20:.0f} MB"
                         f"{' in hosted mode' if limits.hosted() else ''}.")
    try:
        df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"Could not read the CSV: {str(exc).splitlines()[0][:200]}") from None
    return validate_runs(df, min_points=min_points)


# --------------------------------------------------------------------------- power law
@dataclass(frozen=True)
class PowerLawFit:
    """y = E + coef · x^exponent (E = 0 unless fitted with ``offset=True``)."""
    exponent: float
    coef: float
    E: float
    ci: tuple[float, float]          # bootstrap percentile interval on the exponent
    level: float
    n: int
    rmse_log: float                  # root-mean-square residual of log y
    boot: np.ndarray = field(repr=False)   # (n_boot, 3): exponent, coef, E

    def predict(self, x) -> np.ndarray:
        return self.E + self.coef * np.asarray(x, dtype=float) ** self.exponent

    def band(self, x) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=float)
        preds = self.boot[:, 2:3] + self.boot[:, 1:2] * x[None, :] ** self.boot[:, 0:1]
        q = (1 - self.level) / 2
        return np.quantile(preds, q, axis=0), np.quantile(preds, 1 - q, axis=0)


def _fit_once(lx: np.ndarray, ly: np.ndarray, offset: bool, start=None) -> tuple:
    """(exponent, coef, E[, raw params]) by least squares in log space; E is kept in (0, min y)."""
    slope, icpt = np.polyfit(lx, ly, 1)
    if not offset:
        return float(slope), float(np.exp(icpt)), 0.0
    ymin = float(np.exp(ly.min()))

    def parts(p):
        sig = 1 / (1 + np.exp(-p[0]))
        term = np.exp(p[1] + p[2] * lx)
        return sig, term, ymin * sig + term

    def resid(p):
        return np.log(parts(p)[2]) - ly

    def jac(p):
        sig, term, pred = parts(p)
        return np.column_stack([ymin * sig * (1 - sig) / pred, term / pred, term * lx / pred])

    starts = [start] if start is not None else [[e0, icpt, min(slope, -1e-3)] for e0 in (-2.0, 0.0, 2.0)]
    best = None
    for s0 in starts:
        r = optimize.least_squares(resid, s0, jac=jac, method="lm")
        if best is None or r.cost < best.cost:
            best = r
    p = best.x
    return float(p[2]), float(np.exp(p[1])), float(ymin / (1 + np.exp(-p[0]))), p


def fit_power_law(x, y, *, offset: bool = False, n_boot: int = 300, level: float = 0.95,
                  seed: int = 0) -> PowerLawFit:
    """Fit y = coef·x^exponent (+ E with ``offset``) in log space, with a pairs-bootstrap CI."""
    with threadpool_limits(1):      # tiny problems: multithreaded BLAS only adds contention
        return _fit_power_law(x, y, offset, n_boot, level, seed)


def _fit_power_law(x, y, offset, n_boot, level, seed) -> PowerLawFit:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise InputError("x and y must be 1-D and the same length.")
    if len(x) < 3:
        raise InputError(f"A power-law fit needs at least 3 points; got {len(x)}.")
    if np.any(~np.isfinite(x)) or np.any(~np.isfinite(y)) or np.any(x <= 0) or np.any(y <= 0):
        raise InputError("x and y must be finite and > 0 for a log-log fit.")
    if len(np.unique(x)) < 2:
        raise InputError("All x values are equal; a power law needs at least two distinct x.")
    lx, ly = np.log(x), np.log(y)
    k, c, e, *raw = _fit_once(lx, ly, offset)
    warm = raw[0] if raw else None
    pred = np.log(e + c * x ** k)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(x), len(x))
        if len(np.unique(lx[idx])) < (3 if offset else 2):
            continue
        boots.append(_fit_once(lx[idx], ly[idx], offset, warm)[:3])
    boot = np.array(boots) if boots else np.array([[k, c, e]])
    q = (1 - level) / 2
    ci = (float(np.quantile(boot[:, 0], q)), float(np.quantile(boot[:, 0], 1 - q)))
    return PowerLawFit(k, c, e, ci, level, len(x), float(np.sqrt(np.mean((pred - ly) ** 2))), boot)


# --------------------------------------------------------------------------- Chinchilla form
@dataclass(frozen=True)
class ChinchillaFormFit:
    E: float
    A: float
    B: float
    alpha: float
    beta: float
    ci: dict                         # name -> (lo, hi), bootstrap percentile
    level: float
    n: int
    boot: np.ndarray = field(repr=False)    # (n_boot, 5): E, A, B, alpha, beta

    def predict(self, N, D) -> np.ndarray:
        return self.E + self.A / np.asarray(N, float) ** self.alpha + self.B / np.asarray(D, float) ** self.beta

    def optimal(self, C) -> tuple[float, float, float, tuple[float, float]]:
        """N_opt, D_opt, loss at compute C (6ND) and the bootstrap band on that loss."""
        def one(E, A, B, al, be):
            G = (al * A / (be * B)) ** (1 / (al + be))
            n = G * (C / 6) ** (be / (al + be))
            return n, C / 6 / n, E + A / n ** al + B / (C / 6 / n) ** be
        n, d, l = one(self.E, self.A, self.B, self.alpha, self.beta)
        losses = np.array([one(*p)[2] for p in self.boot])
        q = (1 - self.level) / 2
        return n, d, l, (float(np.quantile(losses, q)), float(np.quantile(losses, 1 - q)))


def _huber_objective(p, lN, lD, lL, delta):
    a, b, e, al, be = p
    t1, t2 = a - al * lN, b - be * lD
    m = np.maximum(np.maximum(t1, t2), e)
    w1, w2, w3 = np.exp(t1 - m), np.exp(t2 - m), np.exp(e - m)
    s = w1 + w2 + w3
    lse = m + np.log(s)
    w = (w1 / s, w2 / s, w3 / s)
    r = lse - lL
    small = np.abs(r) <= delta
    loss = np.where(small, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)).sum()
    h = np.where(small, r, delta * np.sign(r))
    grad = np.array([(h * w[0]).sum(), (h * w[1]).sum(), (h * w[2]).sum(),
                     (-h * w[0] * lN).sum(), (-h * w[1] * lD).sum()])
    return loss, grad


def _grid_starts(N, D, L, k: int) -> list[np.ndarray]:
    """Starting points from a grid over (α, β) in [0.05, 2]; at each grid point E, A, B are solved
    by non-negative least squares (the model is linear in them), which lands in the right basin
    far more cheaply than gridding all five parameters as Hoffmann et al. did. Best ``k`` kept."""
    scored = []
    for al, be in itertools.product(np.linspace(0.05, 2.0, 24), repeat=2):
        X = np.column_stack([np.ones_like(N), N ** -al, D ** -be])
        scale = X.max(axis=0)
        coef, _ = optimize.nnls(X / scale, L)
        coef = np.maximum(coef / scale, 1e-12)
        pred = X @ coef
        scored.append((float(np.sum((np.log(pred) - np.log(L)) ** 2)),
                       np.array([np.log(coef[1]), np.log(coef[2]), np.log(coef[0]), al, be])))
    scored.sort(key=lambda t: t[0])
    return [p for _, p in scored[:k]]


def _lbfgs(starts, lN, lD, lL, delta) -> np.ndarray:
    best = None
    for s in starts:
        r = optimize.minimize(_scaled_objective, s, args=(lN, lD, lL, delta), jac=True,
                              method="L-BFGS-B", options={"maxiter": 500})
        if best is None or r.fun < best.fun:
            best = r
    return best.x


def _scaled_objective(p, lN, lD, lL, delta):
    """The Huber objective divided by δ, so L-BFGS's tolerances are not met by tiny gradients."""
    loss, grad = _huber_objective(p, lN, lD, lL, delta)
    return loss / delta, grad / delta


def fit_chinchilla_form(N, D, L, *, delta: float = 1e-3, n_starts: int = 3, n_boot: int = 40,
                        level: float = 0.95, seed: int = 0) -> ChinchillaFormFit:
    """Fit L = E + A/N^α + B/D^β (Hoffmann et al. 2022, App. D.2) with bootstrap CIs."""
    with threadpool_limits(1):      # L-BFGS-B on 5 parameters: BLAS threads are pure overhead
        return _fit_chinchilla_form(N, D, L, delta, n_starts, n_boot, level, seed)


def _fit_chinchilla_form(N, D, L, delta, n_starts, n_boot, level, seed) -> ChinchillaFormFit:
    N, D, L = (np.asarray(v, dtype=float) for v in (N, D, L))
    if not (N.shape == D.shape == L.shape) or N.ndim != 1:
        raise InputError("N, D and loss must be 1-D and the same length.")
    if len(N) < 6:
        raise InputError(f"The Chinchilla form has 5 parameters; it needs at least 6 runs with N, D and "
                         f"loss (got {len(N)}). Use the power-law fit for fewer runs.")
    lN, lD, lL = np.log(N), np.log(D), np.log(L)
    p = _lbfgs(_grid_starts(N, D, L, n_starts), lN, lD, lL, delta)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(N), len(N))
        boots.append(_lbfgs([p], lN[idx], lD[idx], lL[idx], delta))
    to_params = lambda q: np.array([np.exp(q[2]), np.exp(q[0]), np.exp(q[1]), q[3], q[4]])  # noqa: E731
    boot = np.array([to_params(b) for b in boots])
    qlo, qhi = (1 - level) / 2, 1 - (1 - level) / 2
    names = ["E", "A", "B", "alpha", "beta"]
    ci = {nm: (float(np.quantile(boot[:, i], qlo)), float(np.quantile(boot[:, i], qhi)))
          for i, nm in enumerate(names)}
    E, A, B, al, be = to_params(p)
    return ChinchillaFormFit(float(E), float(A), float(B), float(al), float(be), ci, level, len(N), boot)


def extrapolate(fit: PowerLawFit, x_targets) -> pd.DataFrame:
    """Predictions at ``x_targets`` with the bootstrap band (the fit's level)."""
    x = np.atleast_1d(np.asarray(x_targets, dtype=float))
    lo, hi = fit.band(x)
    return pd.DataFrame({"x": x, "prediction": fit.predict(x), "lo": lo, "hi": hi})


def synthetic_runs(loss_fn, N, D, *, noise: float = 0.01, seed: int = 7) -> pd.DataFrame:
    """Runs drawn from a known law with multiplicative log-normal noise (how
    assets/scaling/example_runs.csv was made: Epoch refit, N × D grid, noise 1 %, seed 7)."""
    rng = np.random.default_rng(seed)
    NN, DD = (a.ravel() for a in np.meshgrid(np.asarray(N, float), np.asarray(D, float), indexing="ij"))
    loss = np.asarray(loss_fn(NN, DD)) * np.exp(rng.normal(0.0, noise, NN.shape))
    return pd.DataFrame({"N": NN, "D": DD, "loss": np.round(loss, 5)})
