"""CLIP similarity: an images x texts matrix, zero-shot classification, a joint map, text -> patch
heatmaps, the CLIP tower's CLS attention beside DINOv2's on one photo, and a tiny CLIP trained live.
The sections' bodies are in pages.ui.clip_sections."""
import streamlit as st

from core.runtime import limits
from core.vision import clip
from core.vision import synthetic_shapes
from core.vision import vit as vision
from pages.ui import guard, url_multiselect, url_select, url_text
from pages.ui import clip_sections as sec
from pages.ui import clip_compare

SCENES = [f"synthetic scene {i}" for i in range(1, 5)]
TEXTS = ("a small purple square and a large purple square\na red circle on the left\n"
         "a yellow triangle and a purple star\na small red cross at the top\na green diamond")

st.title("CLIP similarity")
st.write("CLIP (Radford et al. 2021) embeds images and texts into one space so that matching pairs point the "
         "same way. Every number here is a cosine between two real embeddings from the model you pick.")
lim = limits.current()
model = url_select("Model", list(clip.REGISTRY), "model", clip.default_model(),
                   help="The tiny CLIP works offline; ViT-B-32 laion2b needs the network once.")
names = url_multiselect("Images", vision.sample_names(), "images", SCENES, max_selections=clip.MAX_IMAGES)
ups = st.file_uploader(f"Add your own images (at most {lim.max_upload_bytes / 2**20:.0f} MB and "
                       f"{lim.max_image_pixels / 1e6:.0f} megapixels each)", accept_multiple_files=True,
                       key="clip-upload") or []
texts = [t for t in url_text("Texts, one per line", "texts", TEXTS, area=True).splitlines() if t.strip()]

with guard("the CLIP similarities"):
    spec = clip.REGISTRY[model]
    st.caption(f"**{spec.name}** ({spec.arch}) — {spec.origin}. Trained on: {spec.trained_on}.")
    if model == clip.TINY:
        st.info("The tiny CLIP was trained here on synthetic coloured shapes with templated captions (vocabulary: "
                f"{', '.join(synthetic_shapes.COLOURS)}; {', '.join(synthetic_shapes.SHAPES)}; small/large; left/right/"
                "top/bottom/middle). On photos or other words its scores are not meaningful the way a real CLIP's are.",
                icon=":material/info:")
    images = [(n, None) for n in names] + [(u.name, u.getvalue()) for u in ups]
    for u in ups:                                     # validate every upload up front, with its name
        vision.load_image(u.getvalue(), name=u.name)
    sec.matrix_and_map(model, images, texts)
    sec.patch_section(model, images, texts)

st.header("5 · What training data does to attention")
with guard("the attention comparison"):
    clip_compare.compare_with_dinov2(model, {u.name: u.getvalue() for u in ups})

sec.live_training(limits.hosted())
