"""ViT patches: how an image becomes tokens, where the CLS token looks, and attention rollout."""
import numpy as np
import pandas as pd
import streamlit as st

from core.vision import clip
from core.runtime import limits
from core.vision import vit as vision
from core.figures import vision as figs
from pages.ui import guard, show_figure, show_table, url_select, url_slider, url_toggle

UPLOAD = "upload…"


load_clip = st.cache_resource(clip.load, max_entries=2, show_spinner="Loading the CLIP model (once per process)…")
get_image = st.cache_data(vision.open_image, max_entries=32, show_spinner=False)


@st.cache_data(max_entries=16, show_spinner="Running the image tower…")
def analyse(model: str, name: str, data: bytes | None, fusion: str) -> vision.ImageAnalysis:
    c = load_clip(model)
    return vision.analyse(c.model.visual, c.transform, get_image(name, data), head_fusion=fusion)


@st.cache_resource(max_entries=64, show_spinner=False)
def figure(kind: str, model: str, name: str, data: bytes | None, fusion: str, *args):
    """Figures are shared read-only (never mutated after this), so a warm rerun only re-sends them."""
    a = analyse(model, name, data, fusion)
    p = a.count.patch_size
    return {"grid": lambda: figs.image_with_grid(a.pixels, p),
            "strip": lambda: figs.patch_strip(a.patches, p),
            "pca": lambda: figs.patch_scatter(a.patch_pca, a.patches, p, a.count.grid, explained=a.patch_pca_var,
                                              thumbnails=args[0] if args else True),
            "pos": lambda: figs.position_mosaic(a.position_sim, a.count.grid),
            "cls": lambda: figs.overlay(a.pixels, a.cls_maps[args[0], args[1]] if args else a.cls_maps[0, 0],
                                        title=f"CLS → patches, layer {args[0]} head {args[1]}" if args else ""),
            "heads": lambda: figs.head_grid(a.cls_maps, title="Every layer (rows) and head (columns)"),
            "roll": lambda: figs.overlay(a.pixels, a.rollout_maps[args[0]] if args else a.rollout_maps[-1],
                                         title=f"Rollout through layers 0–{args[0] if args else ''} ({fusion} of heads)"),
            }[kind]()


st.title("ViT patches")
st.write("A Vision Transformer (Dosovitskiy et al. 2020) cuts the image into square patches, embeds each "
         "one with the same linear map, prepends a **CLS** token and adds a learned position vector. "
         "Everything below is read from the CLIP image tower you pick, running here.")
lim = limits.current()
c1, c2 = st.columns(2)
with c1:
    model = url_select("Model", list(clip.REGISTRY), "model", clip.default_model(),
                       help="The tiny CLIP works offline; ViT-B-32 laion2b needs the network once.")
with c2:
    source = url_select("Image", vision.sample_names() + [UPLOAD], "image", "synthetic scene 1")
data, label = None, source
if source == UPLOAD:
    up = st.file_uploader(f"An image (PNG, JPEG, WebP…; at most {lim.max_upload_bytes / 2**20:.0f} MB and "
                          f"{lim.max_image_pixels / 1e6:.0f} megapixels)", key="vit-upload")
    data, label = (up.getvalue(), up.name) if up is not None else (None, source)
    if data is None:
        st.info("Upload an image to continue; the samples work without one.")
        st.stop()

with guard("the ViT analysis"):
    spec = clip.REGISTRY[model]
    st.caption(f"**{spec.name}** ({spec.arch}) — {spec.origin}. Trained on: {spec.trained_on}.")
    if model == clip.TINY and not source.startswith("synthetic"):
        st.warning("The tiny CLIP was trained here on synthetic coloured shapes, never on photos. Its "
                   "attention on this photo is not meaningful the way a real CLIP's would be; use it to see "
                   "the mechanics (patches, tokens, shapes of the maps), not what the model 'understands'.",
                   icon=":material/info:")
    fusion = url_select("Rollout: fuse heads by", ["mean", "max"], "fusion", "mean", radio=True)
    a = analyse(model, label, data, fusion)
    key = (model, label, data, fusion)
    cnt = a.count
    n_layers, n_heads = a.cls_maps.shape[:2]

    st.header("1 · What the model sees, cut into patches")
    show_figure(figure("grid", *key), "vit-input-grid",
                data=pd.DataFrame(a.pixels.reshape(-1, 3), columns=["r", "g", "b"]),
                summary=f"After the model's own resize and centre crop the image is {cnt.image_size}×{cnt.image_size}; "
                        f"{cnt.patch_size}×{cnt.patch_size} patches give a {cnt.grid}×{cnt.grid} grid = "
                        f"{cnt.n_patches} patches + CLS = {cnt.seq_len} tokens.")
    rows = [dict(model=k, image=s, patch=p, grid=f"{s // p}×{s // p}", patches=(s // p) ** 2,
                 tokens_with_cls=(s // p) ** 2 + 1) for k, (s, p) in vision.STANDARD_CONFIGS.items()]
    show_table(pd.DataFrame(rows), "vit-patch-counts",
               summary="Tokens grow with the square of image size / patch size: 224/16 → 196 + CLS = 197.")

    st.header("2 · The sequence of tokens")
    show_figure(figure("strip", *key), "vit-token-strip",
                data=pd.DataFrame({"token": range(cnt.seq_len), "kind": ["CLS"] + ["patch"] * cnt.n_patches}),
                summary=f"Token 0 is CLS (a learned vector, not a patch); tokens 1–{cnt.n_patches} are the patches "
                        "read left to right, top to bottom.")

    st.header("3 · Patch embeddings in 2D")
    thumbs = url_toggle("Draw each patch at its point", "thumbs", True)
    show_figure(figure("pca", *key, thumbs), "vit-patch-pca",
                data=pd.DataFrame({"patch": range(cnt.n_patches), "pc1": a.patch_pca[:, 0], "pc2": a.patch_pca[:, 1]}),
                summary=f"PCA of the {cnt.n_patches} patch embeddings (before positions are added); the first two "
                        f"components hold {a.patch_pca_var.sum():.0%} of the variance. Similar-looking patches land together.")

    st.header("4 · Learned position embeddings")
    pos = a.position_sim
    g = cnt.grid
    nb = np.mean([pos[i, i + 1] for i in range(len(pos) - 1) if (i + 1) % g])
    show_figure(figure("pos", *key), "vit-position-similarity", data=pd.DataFrame(pos),
                summary=f"Mean cosine between horizontally adjacent positions is {nb:.2f}, against "
                        f"{pos[~np.eye(len(pos), dtype=bool)].mean():.2f} for all pairs. Nothing tells the model the "
                        "patches form a grid; a well-trained ViT (e.g. ViT-B-32) learns it, shown as bright blobs around "
                        "each tile's own spot" + ("." if nb > 0.2 else "; this model has not (yet): it saw too few images."))

    st.header("5 · Where the CLS token looks")
    c1, c2 = st.columns(2)
    with c1:
        layer = url_slider("Layer", "layer", 0, n_layers - 1, n_layers - 1) if n_layers > 1 else 0
    with c2:
        head = url_slider("Head", "head", 0, n_heads - 1, 0) if n_heads > 1 else 0
    m = a.cls_maps[layer, head]
    r, c = np.unravel_index(m.argmax(), m.shape)
    show_figure(figure("cls", *key, layer, head), "vit-cls-attention",
                data=pd.DataFrame(m), summary=f"Layer {layer} head {head}: the CLS token's strongest patch is row {r}, "
                f"column {c} ({m.max():.1%}); {m.sum():.0%} of its attention goes to patches, the rest to itself.")
    show_figure(figure("heads", *key), "vit-cls-all-heads",
                data=pd.DataFrame(a.cls_maps.reshape(n_layers * n_heads, -1)),
                summary=f"{n_layers} layers × {n_heads} heads of CLS-to-patch attention, recomputed from each block's "
                        "input with its own weights (the fused kernel never returns them).")

    st.header("6 · Attention rollout")
    upto = url_slider("Roll out through layer", "upto", 0, n_layers - 1, n_layers - 1) if n_layers > 1 else 0
    rm = a.rollout_maps[upto]
    rr, rc = np.unravel_index(rm.argmax(), rm.shape)
    show_figure(figure("roll", *key, upto), "vit-rollout", data=pd.DataFrame(rm),
                summary=f"Rollout (Abnar & Zuidema 2020) multiplies (½·I + ½·A) across layers 0–{upto}: the CLS token's "
                        f"input is traced most to row {rr}, column {rc}; {rm.sum():.0%} flows from patches.")
