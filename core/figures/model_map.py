"""The model map: one diagram of the whole model, drawn from its adapter's ``architecture()``.

Each stack (a decoder; an encoder; both for an encoder-decoder) is one row: input -> embedding ->
one block of sublayers in order, framed as "x N layers", with its residual skips -> final norm ->
unembedding -> output. Every arrow carries the real shape of the tensor on it for an input of
``n_tokens`` (shape names as everywhere: head, pos, d_model, d_head). Under the block, a strip of
one cell per layer marks local (sliding-window) and global layers. Every box and cell carries a
target (page, URL parameters) in ``customdata``: the page that explains it, for click-through.
In the spirit of Transformer Explainer (Cho et al. 2024) and bbycroft's LLM visualisation.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.figures.theme import OKABE_ITO, base_layout
from core.runtime.architecture import BIDIRECTIONAL, GLOBAL, LOCAL, Architecture, Part, Stack

BOX_W, BOX_H, ROW = 0.8, 0.6, 3.4
FILL = {"input": "#EEEEEE", "embed": "#CFE3F2", "position": "#CFE3F2", "norm": "#F2F2F2",
        "attention": "#FBE3B8", "cross_attention": "#F7D0C0", "add": "#FFFFFF", "mlp": "#C8EBDD",
        "unembed": "#E6D3E8", "output": "#EEEEEE"}
LAYER_FILL = {LOCAL: OKABE_ITO[4], GLOBAL: OKABE_ITO[1], BIDIRECTIONAL: OKABE_ITO[2]}
# Where each part is explained: (url path, URL parameters). A layer cell opens that layer's heads.
TARGETS = {"input": ("tokenization", {}), "embed": ("embeddings", {"view": "static"}),
           "position": ("embeddings", {"view": "positional"}), "norm": ("inside", {"tab": "Logit lens"}),
           "attention": ("attention", {}), "cross_attention": ("encoder-decoder", {"tab": "Cross-attention"}),
           "add": ("inside", {"tab": "Patching"}), "mlp": ("inside", {"tab": "Ablation"}),
           "unembed": ("inside", {"tab": "Logit lens"}), "output": ("causal", {})}
# An encoder-decoder's parts open the encoder-decoder page at the tab that shows them.
TWO_STACK = {("encoder", "input"): "Encoder input", ("encoder", "embed"): "Encoder input",
             ("encoder", "position"): "Encoder input", ("encoder", "attention"): "Encoder self-attention",
             ("decoder", "attention"): "Decoder self-attention", ("decoder", "cross_attention"): "Cross-attention",
             ("decoder", "output"): "Step-by-step decoding", ("decoder", "unembed"): "Step-by-step decoding"}


def stack_length(stack: Stack, n_tokens: int) -> int:
    return stack.positions or n_tokens


def part_shapes(stack: Stack, n_tokens: int, arch: Architecture | None = None) -> list[dict]:
    """For each part of ``embed + block + head``: the shape leaving it ("out") and the shapes inside
    it ("inner": q, k/v and weights of attention; the MLP's hidden units; a table's size)."""
    n, d, lay = stack_length(stack, n_tokens), stack.d_model, stack.layout
    reads = next((s for s in (arch.stacks if arch else ()) if s.name == stack.reads), None)
    rows = []
    for part in stack.embed + stack.block + stack.head:
        out, inner = f"({n}, {d})", []
        if part.kind == "input":
            out = str(stack.input_shape) if stack.input_shape else f"({n},)" if not stack.positions else "(…)"
        elif part.kind == "embed" and stack.vocab:
            inner = [f"table ({stack.vocab:,}, {d})"]
        elif part.kind in ("attention", "cross_attention"):
            m = stack_length(reads, n_tokens) if part.kind == "cross_attention" and reads else n
            inner = [f"q ({lay.n_heads}, {n}, {lay.d_head})", f"k/v ({lay.n_kv_heads}, {m}, {lay.d_head})",
                     f"weights ({lay.n_heads}, {n}, {m})"]
            if part.kind == "attention" and stack.window and LOCAL in stack.layer_types:
                inner.append(f"local: ≤ {stack.window:,} keys per row")
        elif part.kind == "mlp":
            inner = [f"hidden ({n}, {stack.d_ff:,})"]
        elif part.kind == "unembed":
            out, inner = f"({n}, {stack.vocab:,})", [f"W ({stack.vocab:,}, {d})"]
        elif part.kind == "output" and stack.vocab and any(p.kind == "unembed" for p in stack.head):
            out = f"p ({stack.vocab:,},)"
        rows.append({"stack": stack.name, "kind": part.kind, "part": part.label, "out": out,
                     "inner": " · ".join(inner), "note": part.note})
    return rows


def shapes_table(arch: Architecture, n_tokens: int) -> pd.DataFrame:
    """Every part of every stack with its shapes: the numbers behind the map (its CSV)."""
    return pd.DataFrame([r for s in arch.stacks for r in part_shapes(s, n_tokens, arch)])


def _skip_starts(block: tuple[Part, ...]) -> list[tuple[int, int]]:
    """(start, add) index pairs of each residual skip inside the block. A post-norm block (it ends
    with a norm, as BERT) keeps its norms on the trunk: the skip starts after them."""
    post_norm = block[-1].kind == "norm"
    pairs, start = [], 0
    for i, part in enumerate(block):
        if part.kind == "add":
            s = start
            while post_norm and s < i and block[s].kind == "norm":
                s += 1
            pairs.append((s, i))
            start = i + 1
    return pairs


def _layer_word(kind: str, window: int | None) -> str:
    return f"local (window {window:,})" if kind == LOCAL and window else kind


def model_map(arch: Architecture, n_tokens: int, *, title: str = "") -> go.Figure:
    """The diagram of ``arch`` for an input of ``n_tokens``. Trace 2k holds stack k's boxes, trace
    2k+1 its layer cells; each point's customdata is [url path, params as 'k=v&k=v']."""
    fig = go.Figure()
    shapes, notes = [], []
    width = max(len(s.embed + s.block + s.head) for s in arch.stacks)
    by_name = {s.name: i for i, s in enumerate(arch.stacks)}
    for r, stack in enumerate(arch.stacks):
        y0 = -r * ROW
        parts = stack.embed + stack.block + stack.head
        rows = part_shapes(stack, n_tokens, arch)
        b0, b1 = len(stack.embed), len(stack.embed) + len(stack.block) - 1
        top = y0 + BOX_H / 2
        # the repeated block, framed
        shapes.append(dict(type="rect", x0=b0 - 0.5, x1=b1 + 0.5, y0=y0 - 1.5, y1=y0 + 1.15,
                           line=dict(color="#777", dash="dot", width=1), fillcolor="rgba(0,0,0,0)", layer="below"))
        notes.append(dict(x=b0 - 0.45, y=y0 + 1.15, xanchor="left", yanchor="bottom", showarrow=False,
                          text=f"<b>{stack.name}: × {stack.n_layers} layers</b>", font=dict(size=12)))
        if r == 0 or len(arch.stacks) > 1:
            notes.append(dict(x=b1 + 0.45, y=y0 + 1.15, xanchor="right", yanchor="bottom", showarrow=False,
                              text=f"d_model {stack.d_model} · {stack.layout.n_heads} heads × d_head "
                                   f"{stack.layout.d_head} · {stack.layout.n_kv_heads} KV", font=dict(size=10, color="#555")))
        xs, ys, hover, custom = [], [], [], []
        for i, (part, row) in enumerate(zip(parts, rows)):
            small = part.kind == "add"
            w, h = (0.32, 0.32) if small else (BOX_W, BOX_H)
            shapes.append(dict(type="rect", x0=i - w / 2, x1=i + w / 2, y0=y0 - h / 2, y1=y0 + h / 2,
                               line=dict(color="#444", width=1), fillcolor=FILL.get(part.kind, "#FFF"),
                               layer="below"))
            label = part.label if small else _wrap(part.label)
            notes.append(dict(x=i, y=y0, text=label, showarrow=False, font=dict(size=14 if small else 10)))
            if row["inner"]:
                notes.append(dict(x=i, y=y0 - h / 2 - 0.06, yanchor="top", showarrow=False,
                                  text="<br>".join(row["inner"].split(" · ")), font=dict(size=9, color="#333")))
            if i + 1 < len(parts):                       # the arrow to the next part, with its shape
                nxt_w = 0.32 if parts[i + 1].kind == "add" else BOX_W
                notes.append(dict(x=i + 1 - nxt_w / 2, y=y0, ax=i + w / 2, ay=y0, xref="x", yref="y",
                                  axref="x", ayref="y", showarrow=True, arrowhead=2, arrowsize=1,
                                  arrowwidth=1.2, arrowcolor="#444", text=""))
                notes.append(dict(x=i + 0.5, y=top + 0.05, yanchor="bottom", showarrow=False,
                                  text=row["out"], font=dict(size=9, color="#0b3d66")))
            target, params = TARGETS.get(part.kind, ("home", {}))
            if len(arch.stacks) > 1 and (stack.name, part.kind) in TWO_STACK:
                target, params = "encoder-decoder", {"tab": TWO_STACK[stack.name, part.kind]}
            elif part.kind == "output" and stack.name == "encoder":
                target, params = ("embeddings", {"view": "contextual"})
            xs.append(i)
            ys.append(y0)
            hover.append(f"<b>{part.label}</b><br>{part.note}<br>out {row['out']}"
                         + (f"<br>{row['inner']}" if row["inner"] else "") + "<br><i>click: open the page</i>")
            custom.append([target, _query(params)])
        for s, a in _skip_starts(stack.block):            # residual skips, arched over the sublayers
            xa, xb = b0 + s - 0.5, b0 + a
            shapes.append(dict(type="path", path=f"M {xa},{y0} L {xa},{top + 0.45} L {xb},{top + 0.45} "
                                                 f"L {xb},{y0 + 0.16}", line=dict(color="#999", width=1.2)))
        if stack.reads in by_name:                         # cross-attention reads the other stack's output
            src = arch.stacks[by_name[stack.reads]]
            sx = len(src.embed + src.block + src.head) - 1
            cx = next((len(stack.embed) + j for j, p in enumerate(stack.block) if p.kind == "cross_attention"), None)
            if cx is not None:
                notes.append(dict(x=cx, y=y0 + BOX_H / 2, ax=sx, ay=-by_name[stack.reads] * ROW - BOX_H / 2,
                                  xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2,
                                  arrowcolor=OKABE_ITO[3], arrowwidth=1.5, text=""))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", marker=dict(size=34, symbol="square",
                                 color="rgba(0,0,0,0)"), hovertext=hover, hoverinfo="text", customdata=custom,
                                 name=f"{stack.name} parts", showlegend=False))
        # one cell per layer under the block: local / global, click opens that layer's attention
        n_l, span = stack.n_layers, (b1 - b0 + 0.9)
        cw = span / max(n_l, 1)
        cy = y0 - 1.05
        cx_, cy_, ch, cc = [], [], [], []
        for L, kind in enumerate(stack.layer_types):
            x0 = b0 - 0.45 + L * cw
            shapes.append(dict(type="rect", x0=x0 + 0.01, x1=x0 + cw - 0.01, y0=cy - 0.09, y1=cy + 0.09,
                               line=dict(width=0), fillcolor=LAYER_FILL.get(kind, "#CCC"), layer="below"))
            cx_.append(x0 + cw / 2)
            cy_.append(cy)
            ch.append(f"layer {L}: {_layer_word(kind, stack.window)}<br><i>click: its attention heads</i>")
            if len(arch.stacks) > 1:
                cc.append(["encoder-decoder", _query({"tab": TWO_STACK.get((stack.name, "attention"), "")})])
            else:
                cc.append(["attention", _query({"attn_layer": L})])
            if n_l <= 40:
                notes.append(dict(x=x0 + cw / 2, y=cy, text=str(L), showarrow=False, font=dict(size=8, color="#fff")))
        kinds = list(dict.fromkeys(stack.layer_types))
        legend = "   ".join(f"<span style='color:{LAYER_FILL.get(k, '#CCC')}'>■</span> {_layer_word(k, stack.window)}"
                           f" ({stack.layer_types.count(k)})" for k in kinds)
        notes.append(dict(x=b0 - 0.45, y=cy - 0.14, xanchor="left", yanchor="top", showarrow=False,
                          text="layers: " + legend, font=dict(size=10)))
        fig.add_trace(go.Scatter(x=cx_, y=cy_, mode="markers", marker=dict(size=12, symbol="square",
                                 color="rgba(0,0,0,0)"), hovertext=ch, hoverinfo="text", customdata=cc,
                                 name=f"{stack.name} layers", showlegend=False))
    base_layout(fig, title=title or None, height=int(330 * len(arch.stacks)) + (30 if title else 0))
    fig.update_layout(shapes=shapes, annotations=notes, clickmode="event+select", dragmode=False,
                      hovermode="closest", margin=dict(l=10, r=10, t=40 if title else 10, b=10))
    fig.update_xaxes(visible=False, range=[-0.55, width - 0.45], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-(len(arch.stacks) - 1) * ROW - 1.55, 1.35], fixedrange=True)
    return fig


def _wrap(text: str, width: int = 10) -> str:
    """Break a box label onto lines of about ``width`` characters at spaces."""
    lines, cur = [], ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return "<br>".join(lines + [cur])


def _query(params: dict) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())
