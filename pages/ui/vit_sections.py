"""Sections of the ViT patches page, the caches it shares with the CLIP page, and that page's one
comparison with DINOv2. Each section reads
its own widgets and renders cached figure builders; the analysis is one ``core.vision.analyse_image``
call (core.vision.analysis), the maths in core.vision.vit / features, the figures in
core.figures.vision."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from core.figures import vision as figs
from core.vision import analysis
from core.vision import clip
from core.vision import features
from core.vision import vit as vision
from pages.ui import show_figure, show_table, url_select, url_slider, url_toggle

REGISTERS = "Darcet et al. 2023, “Vision Transformers Need Registers”"

load_model = st.cache_resource(analysis.load, max_entries=3, show_spinner="Loading the model (once per process)…")
get_image = st.cache_data(vision.open_image, max_entries=32, show_spinner=False)


def digest(data: bytes | None) -> str:
    """A short name for an upload's bytes, so caches hash 16 characters, not megabytes, per call."""
    return "" if data is None else hashlib.sha256(data).hexdigest()[:16]


@st.cache_data(max_entries=16, show_spinner="Running the image tower…")
def analyse(model: str, name: str, data_id: str, fusion: str, resolution: int | None,
            _data: bytes | None) -> vision.ImageAnalysis:
    return analysis.analyse_image(get_image(name, _data), load_model(model), resolution, head_fusion=fusion)


@st.cache_data(max_entries=32, show_spinner=False)
def feature_pca(key: tuple, threshold: float, _data: bytes | None) -> features.FeaturePCA:
    a = analyse(*key, _data)
    return features.feature_pca(a.patch_features, a.count.grid, threshold)


BUILDERS = {
    "grid": lambda a, v: figs.image_with_grid(a.pixels, a.count.patch_size),
    "strip": lambda a, v: figs.patch_strip(a.patches, a.count.patch_size),
    "pca": lambda a, v, thumbs: figs.patch_scatter(a.patch_pca, a.patches, a.count.patch_size, a.count.grid,
                                                   explained=a.patch_pca_var, thumbnails=thumbs),
    "pos": lambda a, v: figs.position_mosaic(a.position_sim, a.count.grid),
    "rgb": lambda a, v, thr: figs.pca_rgb(a.pixels, v.pca(thr).rgb, v.pca(thr).foreground,
                                          title=f"Patch features as colour (background: first component ≤ {thr:g})"),
    "cls": lambda a, v, layer, head: figs.overlay(a.pixels, a.cls_maps[layer, head],
                                                  title=f"CLS → patches, layer {layer} head {head}"),
    "heads": lambda a, v: figs.head_grid(a.cls_maps, title="Every layer (rows) and head (columns)"),
    "roll": lambda a, v, upto: figs.overlay(a.pixels, a.rollout_maps[upto],
                                            title=f"Rollout through layers 0–{upto} ({v.key[3]} of heads)"),
    "norms": lambda a, v: figs.norm_map(a.pixels, a.token_norms, features.high_norm_tokens(a.token_norms)[0],
                                        title="Norm of each patch token leaving the last block (circled: high)"),
    "norm_hist": lambda a, v: figs.norm_histogram(a.token_norms, features.high_norm_tokens(a.token_norms)[1],
                                                  title="Patch-token norms"),
}


@st.cache_resource(max_entries=96, show_spinner=False)
def figure(kind: str, key: tuple, args: tuple, _data: bytes | None):
    """Figures are shared read-only (never mutated after this), so a warm rerun only re-sends them."""
    view = View(analyse(*key, _data), key, _data)
    return BUILDERS[kind](view.a, view, *args)


@dataclass(frozen=True)
class View:
    """One analysis and what identifies it: key = (model, image name, upload digest, fusion, resolution)."""
    a: vision.ImageAnalysis
    key: tuple
    data: bytes | None

    def fig(self, kind: str, *args):
        return figure(kind, self.key, args, self.data)

    def pca(self, threshold: float) -> features.FeaturePCA:
        return feature_pca(self.key, threshold, self.data)


# --- sections -----------------------------------------------------------------------------------

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


# --- the CLIP page's one comparison --------------------------------------------------------------

@st.cache_resource(max_entries=16, show_spinner=False)
def attention_pair(model: str, name: str, data_id: str, _data: bytes | None):
    """A CLIP tower's and DINOv2's last-layer CLS attention (mean of heads) on one image, and the figure."""
    a = analyse(model, name, data_id, "mean", None, _data)
    d = analyse(analysis.DEFAULT, name, data_id, "mean", 224, _data)
    maps = a.cls_maps[-1].mean(0), d.cls_maps[-1].mean(0)
    fig = figs.overlay_pair([(a.pixels, maps[0], model), (d.pixels, maps[1], "DINOv2 ViT-S/14")],
                            title="Last layer: where the CLS token looks (mean of heads), each on its own scale")
    return fig, maps


def compare_with_dinov2(model: str, uploads: dict[str, bytes]) -> None:
    st.write("The same photo through this CLIP's image tower and through DINOv2 ViT-S/14 (self-supervised on 142 "
             "million photos; the ViT patches page has the rest of it).")
    name = url_select("Photo", [vision.PASTED, *vision.PHOTOS, *uploads], "cmp_image", vision.PASTED)
    data = uploads.get(name)
    fig, (m_clip, m_dino) = attention_pair(model, name, digest(data), data)
    box = vision.sample_box(name) if data is None else None
    if box:
        cover = [features.box_coverage(m.shape[0], box) for m in (m_clip, m_dino)]
        where = (f"Inside the box that holds the cat ({cover[1].mean():.0%} of the image) falls "
                 f"{features.mass_inside(m_clip, cover[0]):.0%} of {model}'s last-layer CLS attention and "
                 f"{features.mass_inside(m_dino, cover[1]):.0%} of DINOv2's. ")
    else:
        where = (f"On {name} the top 10% of patches hold {features.top_share(m_clip):.0%} of {model}'s last-layer "
                 f"CLS attention and {features.top_share(m_dino):.0%} of DINOv2's (spread evenly: 10%). ")
    tiny = ("The tiny CLIP has only ever seen synthetic coloured shapes, so nothing in a photo is an object to it; "
            "DINOv2 learned from photos where things are. " if model == clip.TINY else "")
    show_figure(fig, "clip-vs-dinov2-attention",
                data=pd.DataFrame({"model": [model] * m_clip.size + [analysis.DEFAULT] * m_dino.size,
                                   "patch": [*range(m_clip.size), *range(m_dino.size)],
                                   "weight": np.concatenate([m_clip.ravel(), m_dino.ravel()])}),
                summary=where + tiny + "Attention is where the CLS token reads from, not a segmentation; whether "
                                       "DINOv2 here was fine-tuned for saliency is unknown.")
