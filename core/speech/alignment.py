"""Token-to-time alignment the way Whisper's word timestamps do it (openai-whisper ``timing.py``,
re-implemented here in numpy, no numba): take the cross-attention of the model's alignment heads over
the audio's frames, renormalise it to those frames, standardise each frame over the tokens, median-
filter along time (width 7), average the heads, and find the monotonic path through -weights by
dynamic time warping. Where the path steps to the next token is that token's start.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import median_filter

MEDFILT = 7


def dtw(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost monotonic path through (row, col) ``cost`` from (0, 0) to the far corner, moving
    down, right or diagonally: (row indices, col indices) along the path."""
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    trace = np.zeros((n + 1, m + 1), dtype=np.int8)
    x = cost.tolist()
    a = acc.tolist()
    t = trace.tolist()
    for j in range(1, m + 1):
        for i in range(1, n + 1):
            c0, c1, c2 = a[i - 1][j - 1], a[i - 1][j], a[i][j - 1]
            if c0 < c1 and c0 < c2:
                c, s = c0, 0
            elif c1 < c0 and c1 < c2:
                c, s = c1, 1
            else:
                c, s = c2, 2
            a[i][j] = x[i - 1][j - 1] + c
            t[i][j] = s
    i, j, rows, cols = n, m, [], []
    while i > 0 or j > 0:
        rows.append(i - 1), cols.append(j - 1)
        s = 1 if j == 0 else 2 if i == 0 else t[i][j]
        i, j = (i - 1, j - 1) if s == 0 else (i - 1, j) if s == 1 else (i, j - 1)
    return np.array(rows[::-1]), np.array(cols[::-1])


def alignment_matrix(cross: np.ndarray, heads: list[tuple[int, int]], n_frames: int) -> np.ndarray:
    """(q_pos, frame) averaged, standardised, median-filtered weights of ``heads`` over the first
    ``n_frames`` frames; ``cross`` is (layer, head, q_pos, frame) over the decoder's input."""
    w = np.stack([cross[layer, head, :, :n_frames] for layer, head in heads])     # (heads, q_pos, frame)
    w = w / w.sum(-1, keepdims=True)
    mean, std = w.mean(-2, keepdims=True), w.std(-2, keepdims=True)
    w = (w - mean) / np.maximum(std, 1e-8)
    w = median_filter(w, size=(1, 1, MEDFILT), mode="reflect")
    return w.mean(0)


def align(cross: np.ndarray, heads: list[tuple[int, int]], n_frames: int, tokens: list[str],
          frame_s: float) -> pd.DataFrame:
    """One row per generated token: token, start_s, end_s. ``cross`` rows are the decoder inputs
    <|startoftranscript|>, <|notimestamps|>, t_1 .. t_n; row k is the query that produced t_k, so rows
    1 .. n + 1 (the last one produces <|endoftext|>) are aligned, as Whisper does; token k starts where
    the path enters row k and ends where it enters row k + 1."""
    n = len(tokens)
    if n == 0:
        return pd.DataFrame({"token": [], "start_s": [], "end_s": []})
    matrix = alignment_matrix(cross, heads, n_frames)[1:]                     # (n + 1, frame)
    rows, cols = dtw(-matrix)
    jumps = np.diff(rows, prepend=-1).astype(bool)
    times = cols[jumps] * frame_s                                             # start of each row
    return pd.DataFrame({"token": tokens, "start_s": times[:n], "end_s": times[1:n + 1]})
