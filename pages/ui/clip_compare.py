"""The CLIP page's one comparison with DINOv2: the same photo through both image towers, last-layer
CLS attention side by side, from the analyses the ViT patches page caches (``pages.ui.vision_cache``)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.figures import vision as figs
from core.vision import analysis
from core.vision import clip
from core.vision import features
from core.vision import vit as vision
from pages.ui import show_figure, url_select
from pages.ui.vision_cache import analyse, digest


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
