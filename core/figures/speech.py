"""Figures of the encoder-decoder page (Whisper): the waveform and log-mel input on one time axis, the
cross-attention alignment image (tokens x time) with the DTW path, and one decoding step. The encoder's
self-attention reuses ``core.figures.attention.head_heatmap`` (the long-input renderer) and the decoder's
masked self-attention ``core.figures.attention.panels`` (the causal page's mask views).

Time axes are in seconds: a mel frame is 10 ms, an encoder position 20 ms (conv2 has stride 2).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.attention import label, labels
from core.figures.basic import bars
from core.figures.theme import OKABE_ITO, SEQUENTIAL, base_layout

MEL_S = 0.01
WAVE_POINTS = 2000

def envelope(audio: np.ndarray, sample_rate: int, points: int = WAVE_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time_s, min, max) per bucket: the waveform drawn at ``points`` columns without aliasing."""
    n = max(1, audio.shape[0] // points)
    m = audio[: audio.shape[0] // n * n].reshape(-1, n)
    t = (np.arange(m.shape[0]) + 0.5) * n / sample_rate
    return t, m.min(1), m.max(1)

def input_figure(audio: np.ndarray, sample_rate: int, features: np.ndarray, window_s: float = 30.0) -> go.Figure:
    """Waveform above the (mel, frame) log-mel spectrogram, the 30 s window with its zero padding shaded."""
    dur = audio.shape[0] / sample_rate
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7], vertical_spacing=0.06,
                        subplot_titles=["waveform (16 kHz)", "log-mel spectrogram: 80 bands × 3,000 frames of 10 ms"])
    t, lo, hi = envelope(audio, sample_rate)
    fig.add_trace(go.Scatter(x=np.concatenate([t, t[::-1]]), y=np.concatenate([hi, lo[::-1]]), fill="toself",
                             line={"width": 0.5, "color": OKABE_ITO[0]}, name="amplitude", hoverinfo="skip"), 1, 1)
    frames = features.shape[1]
    x = (np.arange(frames) + 0.5) * MEL_S
    fig.add_trace(go.Heatmap(z=features, x=x, y=np.arange(features.shape[0]), colorscale=SEQUENTIAL,
                             colorbar={"title": "log-mel", "thickness": 12, "len": 0.65, "y": 0.35},
                             customdata=np.broadcast_to((x // 0.02).astype(int), features.shape),
                             hovertemplate="t %{x:.2f} s (encoder position %{customdata})<br>mel band %{y}"
                                           "<br>%{z:.2f}<extra></extra>"), 2, 1)
    if dur < window_s:
        for row in (1, 2):
            fig.add_vrect(x0=dur, x1=window_s, fillcolor="#888888", opacity=0.15, line_width=0, row=row, col=1)
        fig.add_annotation(x=(dur + window_s) / 2, y=1.0, yref="paper", showarrow=False,
                           text=f"zero padding to {window_s:.0f} s")
    fig.update_xaxes(title="time (s); encoder position = time ÷ 20 ms (1,500 positions)", row=2, col=1,
                     range=[0, window_s])
    fig.update_yaxes(title="mel band", row=2, col=1)
    fig.update_layout(showlegend=False)
    return base_layout(fig, height=520)

def frame_labels(n: int, frame_s: float = 0.02) -> list[str]:
    """Encoder position labels: '12 · 0.24 s'."""
    return [f"{i} · {i * frame_s:.2f} s" for i in range(n)]

def alignment_image(weights: np.ndarray, tokens: list[str], frame_s: float, *, path: pd.DataFrame | None = None,
                    title: str = "") -> go.Figure:
    """(token, frame) cross-attention as an image, time in seconds across, tokens down; ``path``
    (token, start_s, end_s) draws the DTW alignment as a box per token."""
    n, f = weights.shape
    x = (np.arange(f) + 0.5) * frame_s
    ys = labels(tokens)
    fig = go.Figure(go.Heatmap(z=weights, x=x, y=ys, colorscale=SEQUENTIAL, zmin=0,
                               colorbar={"title": "weight", "thickness": 12},
                               hovertemplate="token %{y}<br>t %{x:.2f} s<br>weight %{z:.3g}<extra></extra>"))
    if path is not None and len(path):
        xs, yy = [], []
        for i, row in enumerate(path.itertuples()):
            xs += [row.start_s, row.end_s, None]
            yy += [ys[i], ys[i], None]
        fig.add_trace(go.Scatter(x=xs, y=yy, mode="lines", line={"color": OKABE_ITO[1], "width": 4},
                                 name="DTW alignment", hoverinfo="skip"))
    fig.update_yaxes(type="category", autorange="reversed", title="generated token")
    fig.update_xaxes(title="audio time (s)", range=[0, f * frame_s])
    fig.update_layout(legend={"orientation": "h", "y": 1.06})
    return base_layout(fig, title=title, height=max(360, min(900, 20 * n + 170)))

def step_figure(top: list[tuple[str, float]], chosen: str, cross: np.ndarray, frame_s: float,
                step: int) -> go.Figure:
    """One decoding step: the top tokens' probabilities beside the step's cross-attention over time."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.35, 0.65], horizontal_spacing=0.12,
                        subplot_titles=[f"step {step}: top {len(top)} next tokens",
                                        f"cross-attention of this step (chose “{label(chosen)}”)"])
    b = bars([label(t) for t, _ in top], [p for _, p in top], horizontal=True, highlight=0)
    for tr in b.data:
        fig.add_trace(tr, 1, 1)
    t = (np.arange(cross.shape[0]) + 0.5) * frame_s
    fig.add_trace(go.Scatter(x=t, y=cross, mode="lines", line={"color": OKABE_ITO[0]}, name="weight",
                             hovertemplate="t %{x:.2f} s<br>weight %{y:.3g}<extra></extra>"), 1, 2)
    fig.update_yaxes(autorange="reversed", type="category", row=1, col=1)
    fig.update_xaxes(title="probability", range=[0, 1], row=1, col=1)
    fig.update_xaxes(title="audio time (s)", row=1, col=2)
    fig.update_yaxes(title="weight", row=1, col=2)
    fig.update_layout(showlegend=False)
    return base_layout(fig, height=420)
