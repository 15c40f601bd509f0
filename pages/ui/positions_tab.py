"""The embeddings page's positional-encoding view: the sinusoidal table, its offset-only dot products,
and RoPE on SmolLM2's own settings (``core.text.positional``)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core.text import positional
from core.figures import embeddings as figs
from pages.ui import guard, show_figure, url_select, url_slider, url_toggle
from pages.ui.embeddings_tabs import smollm_config


def positional_view() -> None:
    """The sinusoidal table, its offset-only dot products, and RoPE on SmolLM2's settings."""
    st.write("Attention alone ignores order. The 2017 Transformer adds a fixed sinusoidal vector to each token; "
             "RoPE (used by SmolLM2, LLaMA) instead rotates every query/key pair by an angle proportional to position.")
    c = st.columns(3)
    with c[0]:
        n_pos = url_slider("Positions", "n_pos", 8, 512, 100)
    with c[1]:
        d_model = url_select("d_model", [16, 64, 128, 256, 512], "d_model", 128)
    with c[2]:
        base = url_select("Base", [10000, 100000, 500000], "base", 10000, format_func=lambda b: f"{b:,}")
    with guard("the positional encodings"):
        pe = positional.sinusoidal(n_pos, d_model, base).numpy()
        show_figure(figs.pe_table(pe), "pe-table", data=pd.DataFrame(pe),
                    summary=f"PE[p, 2i] = sin(p / {base:,}^(2i/{d_model})), PE[p, 2i+1] = cos(…): dim 0 repeats every "
                            f"{2 * np.pi:.1f} positions, the last pair every {2 * np.pi * base ** ((d_model - 2) / d_model):,.0f}.")
        ks = range(n_pos)
        dots = positional.pe_dot_offsets(d_model, n_pos - 1, (0, 10, 50), base).numpy()
        show_figure(figs.offset_lines(ks, {f"start p = {p}": d for p, d in zip((0, 10, 50), dots)}, y_title="PE(p) · PE(p+k)"),
                    "pe-dot", data=pd.DataFrame(dots.T, columns=["p0", "p10", "p50"]).assign(k=list(ks)),
                    summary=f"The three lines coincide (max gap {np.ptp(dots, axis=0).max():.1e}): the dot product "
                            f"depends on the offset k only, falling from {dots[0, 0]:.0f} at k = 0.")
        smol = positional.rope_settings(smollm_config())
        st.subheader("RoPE: q·k depends only on the offset")
        st.markdown(f"SmolLM2's config: RoPE base **{smol['rope_theta']:,.0f}**, type `{smol['rope_type']}`, head size "
                    f"**{smol['d_head']}**, context {smol['max_position_embeddings']:,} positions.")
        same = url_toggle("Use the same vector as query and key", "same", True)
        g = torch.Generator().manual_seed(0)
        q = torch.randn(smol["d_head"], generator=g)
        k = q.clone() if same else torch.randn(smol["d_head"], generator=g)
        grid = positional.rope_scores(q, k, 32, base).numpy()
        show_figure(figs.score_grid(grid), "rope-grid", data=pd.DataFrame(grid),
                    summary=f"The same q and k placed at every position (base {base:,}): each diagonal is constant "
                            f"(largest spread along a diagonal {max(np.ptp(np.diagonal(grid, o)) for o in range(-31, 32)):.1e}).")
        curves = {f"base {b:,}": positional.rope_offset_curve(q, k, n_pos - 1, b, starts=(0,))[0].numpy()
                  for b in (10000, 100000, 500000)}
        show_figure(figs.offset_lines(ks, curves, y_title="R(m)q · R(m+k)k"), "rope-bases",
                    data=pd.DataFrame(curves).assign(k=list(ks)),
                    summary="A larger base rotates slower pairs, so q·k changes more slowly with distance: "
                            + ", ".join(f"{n}: {v[min(len(v) - 1, 50)]:.1f} at k = {min(len(v) - 1, 50)}" for n, v in curves.items()) + ".")
