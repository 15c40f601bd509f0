"""Figures for the tokenization page: token counts across tokenizers and the BPE training replay."""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures import basic
from core.figures.axes import readable_axes
from core.figures.theme import OKABE_ITO, base_layout


def token_counts(labels: Sequence[str], counts: Sequence[int], chars_per_token: Sequence[float]) -> go.Figure:
    """Horizontal bars: tokens per tokenizer, the fewest highlighted, characters/token as text."""
    fig = basic.bars(labels, counts, x_title="tokens", text_fmt=".0f",
                     highlight=min(range(len(counts)), key=lambda i: counts[i]) if counts else None)
    fig.data[0].text = [f"{c} tokens · {r:.2f} chars/token" for c, r in zip(counts, chars_per_token)]
    fig.data[0].hovertemplate = "%{y}: %{x} tokens<extra></extra>"
    return fig


def bpe_progress(steps: Sequence[int], counts: Sequence[int], corpus_symbols: Sequence[int],
                 vocab_sizes: Sequence[int], current: int) -> go.Figure:
    """Top: how often the merged pair occurred (falls as merges get rarer). Bottom: the corpus
    shrinks in symbols while the vocabulary grows. A dashed line marks the current step."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        specs=[[{}], [{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=list(steps), y=list(counts), name="count of merged pair",
                             mode="lines", line={"color": OKABE_ITO[0]}), row=1, col=1)
    fig.add_trace(go.Scatter(x=list(steps), y=list(corpus_symbols), name="corpus length (symbols)",
                             mode="lines", line={"color": OKABE_ITO[1]}), row=2, col=1)
    fig.add_trace(go.Scatter(x=list(steps), y=list(vocab_sizes), name="vocabulary size",
                             mode="lines", line={"color": OKABE_ITO[2], "dash": "dot"}),
                  row=2, col=1, secondary_y=True)
    fig.add_vline(x=current, line_dash="dash", line_color="#555")
    fig.update_yaxes(title="pair count", type="log", row=1, col=1)
    fig.update_yaxes(title="corpus symbols", row=2, col=1)
    fig.update_yaxes(title="vocabulary", row=2, col=1, secondary_y=True)
    fig.update_xaxes(title="merge step", row=2, col=1)
    fig.update_layout(legend={"orientation": "h", "y": -0.2})
    return readable_axes(base_layout(fig, height=480))     # powers of ten; the second axis its own ticks
