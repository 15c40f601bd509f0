"""Patch-feature maths for the ViT page, pure functions of arrays: cosine grids of position
embeddings, PCA (and the DINOv2 paper's PCA-as-RGB picture: Oquab et al. 2023, Fig. 1), and the
high-norm token rule used to mark the artefacts of Darcet et al. 2023, "Vision Transformers Need
Registers".

Shapes: features (patch, d_model); maps over the image (grid, grid), patch 0 top-left, row by row.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.runtime.errors import InputError


def cosine_matrix(x: np.ndarray) -> np.ndarray:
    """Cosine between every pair of rows: (n, d) -> (n, n), float32."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    x = F.normalize(x, dim=-1)
    return (x @ x.T).numpy()


def position_structure(sim: np.ndarray, grid: int) -> tuple[float, float]:
    """(mean cosine of horizontally adjacent positions, mean cosine of pairs at least grid/2 apart
    in both row and column): a learned 2D layout makes the first high and the second low."""
    r, c = np.divmod(np.arange(grid * grid), grid)
    near = [sim[i, i + 1] for i in range(len(sim) - 1) if (i + 1) % grid]
    far = (np.abs(r[:, None] - r[None]) >= grid / 2) & (np.abs(c[:, None] - c[None]) >= grid / 2)
    return float(np.mean(near)) if near else float("nan"), float(sim[far].mean()) if far.any() else float("nan")


def pca(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``k`` principal components of the rows (centred SVD): (coords (rows, k), explained
    variance ratio (k,)), zero-padded when there are fewer than ``k`` components."""
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(0, keepdims=True)
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    var = s ** 2 / max(1e-12, float((s ** 2).sum()))
    coords = u[:, :k] * s[:k]
    if coords.shape[1] < k:
        coords = np.pad(coords, ((0, 0), (0, k - coords.shape[1])))
        var = np.pad(var, (0, k - len(var)))
    return coords, var[:k]


def _unit(v: np.ndarray) -> np.ndarray:
    lo, hi = float(v.min()), float(v.max())
    return np.zeros_like(v) if hi == lo else (v - lo) / (hi - lo)


@dataclass(frozen=True)
class FeaturePCA:
    """The DINOv2 paper's picture (Oquab et al. 2023, Fig. 1): PCA of the patch features, the first
    component thresholded into foreground/background, then three components of the foreground alone
    shown as RGB."""
    pc1: np.ndarray                # (grid, grid) in [0, 1]: first component, oriented so the border is low
    foreground: np.ndarray         # (grid, grid) bool: pc1 > threshold
    rgb: np.ndarray                # (grid, grid, 3) in [0, 1]: PCA of the foreground; background black
    pc1_var: float                 # variance ratio of the first component over all patches
    rgb_var: np.ndarray            # (3,): variance ratios of the foreground PCA
    threshold: float


def feature_pca(features: np.ndarray, grid: int, threshold: float = 0.5) -> FeaturePCA:
    """``features`` (patch, d_model) -> FeaturePCA. A component's sign is arbitrary: it is flipped so
    the patches on the image border score lower on average than the rest (the border is usually
    background), which is a heuristic the figure states."""
    if not 0.0 <= threshold <= 1.0:
        raise InputError(f"the background threshold must lie in 0–1, got {threshold}")
    c1, var1 = pca(features, 1)
    pc1 = c1[:, 0].reshape(grid, grid)
    border = np.ones((grid, grid), bool)
    border[1:-1, 1:-1] = False
    if grid > 2 and pc1[border].mean() > pc1[~border].mean():
        pc1 = -pc1
    pc1 = _unit(pc1)
    fg = pc1 > threshold
    pick = fg.ravel() if fg.sum() >= 3 else np.ones(grid * grid, bool)
    c3, var3 = pca(np.asarray(features)[pick], 3)
    rgb = np.zeros((grid * grid, 3))
    rgb[pick] = np.stack([_unit(c3[:, j]) for j in range(3)], 1)
    return FeaturePCA(pc1, fg, rgb.reshape(grid, grid, 3), float(var1[0]), var3, float(threshold))


def high_norm_tokens(norms: np.ndarray, z: float = 3.5) -> tuple[np.ndarray, float]:
    """Tokens whose norm stands out: modified z-score (norm - median) / (1.4826 * MAD) above ``z``
    (Iglewicz & Hoaglin's outlier rule). Returns (mask shaped like ``norms``, the norm cut-off)."""
    n = np.asarray(norms, dtype=np.float64)
    med = float(np.median(n))
    mad = float(np.median(np.abs(n - med))) * 1.4826
    cut = med + z * mad if mad > 0 else float("inf")
    return n > cut, cut


def box_coverage(grid: int, box: tuple[float, float, float, float]) -> np.ndarray:
    """(grid, grid): the fraction of each patch inside ``box`` = (x0, y0, x1, y1), fractions of the side."""
    edges = np.arange(grid + 1) / grid
    x0, y0, x1, y1 = box
    cx = np.clip(np.minimum(edges[1:], x1) - np.maximum(edges[:-1], x0), 0, None) * grid   # (grid,)
    cy = np.clip(np.minimum(edges[1:], y1) - np.maximum(edges[:-1], y0), 0, None) * grid
    return cy[:, None] * cx[None, :]


def mass_inside(heat: np.ndarray, cover: np.ndarray) -> float:
    """Share of a (grid, grid) map's mass that falls inside the covered patches."""
    return float((heat * cover).sum() / heat.sum())


def top_share(heat: np.ndarray, fraction: float = 0.1) -> float:
    """Share of a map's mass in its top ``fraction`` of patches (spread evenly: ``fraction``)."""
    v = np.sort(np.asarray(heat).ravel())[::-1]
    return float(v[:max(1, int(len(v) * fraction))].sum() / v.sum())
