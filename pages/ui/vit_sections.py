"""Sections of the ViT patches page. Each reads its own widgets and renders the cached figure
builders of ``pages.ui.vision_cache``; the analysis is one ``core.vision.analyse_image`` call
(core.vision.analysis), the maths in core.vision.vit / features, the figures in core.figures.vision."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.figures import vision as figs
from core.vision import analysis
from core.vision import features
from core.vision import vit as vision
from pages.ui import show_figure, show_table, url_slider, url_toggle
from pages.ui.vision_cache import View

REGISTERS = "Darcet et al. 2023, “Vision Transformers Need Registers”"


def patches(v: View) -> None:
    a, cnt = v.a, v.a.count
    st.header("1 · What the model sees, cut into patches")
    show_figure(v.fig("grid"), "vit-input-grid", data=pd.DataFrame(a.pixels.reshape(-1, 3), columns=["r", "g", "b"]),
                summary=f"After the model's own resize and centre crop the image is {cnt.image_size}×{cnt.image_size}; "
                        f"{cnt.patch_size}×{cnt.patch_size} patches give a {cnt.grid}×{cnt.grid} grid = "
                        f"{cnt.n_patches} patches + CLS = {cnt.seq_len} tokens.")
    configs = {"DINOv2 ViT-S/14 @224": (224, 14), "DINOv2 ViT-S/14 @518": (518, 14), **vision.STANDARD_CONFIGS}
    rows = [dict(model=k, image=s, patch=p, grid=f"{s // p}×{s // p}", patches=(s // p) ** 2,
                 tokens_with_cls=(s // p) ** 2 + 1) for k, (s, p) in configs.items()]
    show_table(pd.DataFrame(rows), "vit-patch-counts",
               summary="Tokens grow with the square of image size / patch size: 224/16 → 196 + CLS = 197; "
                       "DINOv2 at 518/14 reads 1,369 + CLS = 1,370.")
    st.header("2 · The sequence of tokens")
    show_figure(v.fig("strip"), "vit-token-strip",
                data=pd.DataFrame({"token": range(cnt.seq_len), "kind": ["CLS"] + ["patch"] * cnt.n_patches}),
                summary=f"Token 0 is CLS (a learned vector, not a patch); tokens 1–{cnt.n_patches} are the patches "
                        "read left to right, top to bottom.")
    st.header("3 · Patch embeddings in 2D")
    many = cnt.n_patches > figs.MAX_THUMBNAILS
    thumbs = url_toggle("Draw each patch at its point", "thumbs", True) and not many
    show_figure(v.fig("pca", thumbs), "vit-patch-pca",
                data=pd.DataFrame({"patch": range(cnt.n_patches), "pc1": a.patch_pca[:, 0], "pc2": a.patch_pca[:, 1]}),
                summary=f"PCA of the {cnt.n_patches} patch embeddings (the patch projection, before positions); the first "
                        f"two components hold {a.patch_pca_var.sum():.0%} of the variance. Similar-looking patches land "
                        "together" + (f"; past {figs.MAX_THUMBNAILS} patches they are drawn as points." if many else "."))


def positions(v: View) -> None:
    a, g = v.a, v.a.count.grid
    near, far = features.position_structure(a.position_sim, g)
    st.header("4 · Position embeddings")
    interp = (f" At {a.count.image_size} px the 37×37 learned positions are interpolated (bicubic) to {g}×{g}, "
              "as DINOv2 does." if a.model == analysis.DEFAULT and g != 37 else "")
    show_figure(v.fig("pos"), "vit-position-similarity", data=pd.DataFrame(a.position_sim),
                summary=f"Mean cosine between horizontally adjacent positions is {near:.2f}, against {far:.2f} for pairs "
                        "at least half the grid apart in both directions. Nothing tells the model the patches form a "
                        "grid: a well-trained ViT learns it, seen as a bright blob around each tile's own spot"
                        + ("." if near > 0.2 else "; this model has not: it saw too few images.") + interp)


def feature_colours(v: View) -> None:
    a = v.a
    st.header("5 · Patch features as colour")
    thr = url_slider("Background threshold on the first component", "bg", 0.0, 1.0, 0.5, step=0.05,
                     help="Patches whose first principal component (scaled to 0–1) lies at or below this are "
                          "background and drawn black; the colours are a second PCA of the rest.")
    fp = v.pca(thr)
    show_figure(v.fig("rgb", thr), "vit-feature-pca",
                data=pd.DataFrame({"patch": range(a.count.n_patches), "pc1": fp.pc1.ravel(),
                                   "foreground": fp.foreground.ravel(), "r": fp.rgb[..., 0].ravel(),
                                   "g": fp.rgb[..., 1].ravel(), "b": fp.rgb[..., 2].ravel()}),
                summary=f"The DINOv2 paper's picture: PCA of the last layer's {a.count.n_patches} patch features. The "
                        f"first component holds {fp.pc1_var:.0%} of the variance; {fp.foreground.mean():.0%} of patches "
                        f"lie above {thr:g} and count as foreground, coloured by three components of their own PCA "
                        f"({fp.rgb_var.sum():.0%} of its variance). A component's sign is arbitrary; it is turned so the "
                        "image border scores low. Parts with the same colour have similar features.")


def attention(v: View) -> None:
    a = v.a
    n_layers, n_heads = a.cls_maps.shape[:2]
    st.header("6 · Where the CLS token looks")
    c1, _, c2 = st.columns([5, 1, 5])                          # a gap: two sliders, not one with two thumbs
    with c1:
        layer = url_slider("Layer", "layer", 0, n_layers - 1, n_layers - 1) if n_layers > 1 else 0
    with c2:
        head = url_slider("Head", "head", 0, n_heads - 1, 0) if n_heads > 1 else 0
    m = a.cls_maps[layer, head]
    r, c = np.unravel_index(m.argmax(), m.shape)
    box = vision.sample_box(v.key[1]) if v.data is None else None
    cover = features.box_coverage(a.count.grid, box) if box else None
    inside = (f" Inside the cat's box ({cover.mean():.0%} of the image) falls {features.mass_inside(m, cover):.0%} "
              f"of it; the mean of all heads puts {features.mass_inside(a.cls_maps[layer].mean(0), cover):.0%} there."
              if box else "")
    show_figure(v.fig("cls", layer, head), "vit-cls-attention", data=pd.DataFrame(m),
                summary=f"Layer {layer} head {head}: the CLS token's strongest patch is row {r}, column {c} "
                        f"({m.max():.1%}); {m.sum():.0%} of its attention goes to patches, the rest to itself." + inside)
    show_figure(v.fig("heads"), "vit-cls-all-heads", data=pd.DataFrame(a.cls_maps.reshape(n_layers * n_heads, -1)),
                summary=f"{n_layers} layers × {n_heads} heads of CLS-to-patch attention, recomputed from each block's "
                        "input with its own weights (the fused kernel never returns them).")
    st.header("7 · Attention rollout")
    upto = url_slider("Roll out through layer", "upto", 0, n_layers - 1, n_layers - 1) if n_layers > 1 else 0
    rm = a.rollout_maps[upto]
    rr, rc = np.unravel_index(rm.argmax(), rm.shape)
    show_figure(v.fig("roll", upto), "vit-rollout", data=pd.DataFrame(rm),
                summary=f"Rollout (Abnar & Zuidema 2020) multiplies (½·I + ½·A) across layers 0–{upto}: the CLS token's "
                        f"input is traced most to row {rr}, column {rc}; {rm.sum():.0%} flows from patches.")


def high_norms(v: View) -> None:
    a = v.a
    marked, cut = features.high_norm_tokens(a.token_norms)
    med = float(np.median(a.token_norms))
    last = a.cls_maps[-1]                                           # (head, grid, grid)
    share = (last * marked).sum((-1, -2)) / last.sum((-1, -2))      # (head,)
    h = int(share.argmax())
    st.header("8 · High-norm tokens")
    st.write(f"{REGISTERS} found that large DINOv2 models re-use a few low-information patches, mostly background, "
             "as scratch space for global information: those tokens get norms several times the others' and draw much "
             "of the CLS attention, which is what makes attention maps blotchy. Their fix is extra “register” tokens.")
    per_head = ", ".join(f"{s:.0%}" for s in share)
    tail = (f"In the last layer head {h} sends {share[h]:.0%} of its CLS attention to the circled tokens "
            f"(heads 0–{len(share) - 1}: {per_head})." if marked.any() else "No token stands out on this image.")
    show_figure(v.fig("norms"), "vit-token-norms",
                data=pd.DataFrame({"patch": range(a.count.n_patches), "norm": a.token_norms.ravel(),
                                   "high_norm": marked.ravel()}),
                summary=f"Circled: {int(marked.sum())} of {a.count.n_patches} patch tokens whose norm exceeds {cut:.1f} "
                        f"(median {med:.1f} + 3.5 robust standard deviations). The largest is "
                        f"{a.token_norms.max() / med:.2f}× the median (CLS: {a.cls_norm:.1f}). " + tail)
    show_figure(v.fig("norm_hist"), "vit-token-norm-histogram", data=pd.DataFrame({"norm": a.token_norms.ravel()}),
                summary="In this small ViT-S/14 the effect is mild: no token is an order of magnitude above the rest, "
                        "unlike the ViT-g of the paper; the marked tokens are the tail beyond the dashed cut-off."
                        if a.model == analysis.DEFAULT else
                        "Norms of this model's patch tokens; the dashed line is the cut-off used above.")
