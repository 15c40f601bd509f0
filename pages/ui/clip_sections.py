"""Sections of the CLIP page: the images x texts matrix (thumbnails on its rows), zero-shot
classification, the joint map, text -> patch heatmaps and the tiny CLIP trained live. Each section
reads its own widgets, makes one cached core.vision.clip call and renders a core.figures.vision
builder; the caches are shared read-only by every session."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from core.figures import basic
from core.figures import vision as figs
from core.vision import clip
from core.vision import tiny_clip
from core.vision import vit as vision
from pages.ui import show_figure, url_multiselect, url_select, url_slider, url_text
from pages.ui import vision_cache as vsec

load_clip = vsec.load_model                 # one cache for the vision models of both pages
get_image = vsec.get_image


@st.cache_data(max_entries=16, show_spinner="Embedding images and texts…")
def embed(model: str, images: tuple, texts: tuple[str, ...]):
    c = load_clip(model)
    return clip.embed_images([get_image(n, d) for n, d in images], c), clip.embed_texts(list(texts), c)


def thumbnail_pixels(name: str, data: bytes | None, px: int = 2 * figs.THUMB_PX) -> np.ndarray:
    """The input image itself, shrunk to ``px`` before it becomes floats (a photo may be 12 MP)."""
    img = get_image(name, data).convert("RGB")
    img.thumbnail((px, px))
    return np.asarray(img, dtype=np.float32) / 255


@st.cache_resource(max_entries=32, show_spinner=False)
def matrix_figures(model: str, images: tuple, texts: tuple[str, ...]):
    """The matrix and joint-map figures, shared read-only: a warm rerun only re-sends them."""
    img_emb, txt_emb = embed(model, images, texts)
    labels = [n for n, _ in images]
    coords, var = clip.joint_map(img_emb, txt_emb)
    return (figs.similarity_matrix(clip.cosine(img_emb, txt_emb), labels, list(texts),
                                   thumbnails=[thumbnail_pixels(n, d) for n, d in images]),
            figs.joint_scatter(coords, len(labels), labels + list(texts), explained=var), coords, var)


@st.cache_data(max_entries=32, show_spinner=False)
def zero_shot(model: str, image: tuple, classes: tuple, templates: tuple, temperature: float) -> clip.ZeroShot:
    c = load_clip(model)
    emb = clip.embed_images([get_image(*image)], c)[0]
    return clip.zero_shot(emb, list(classes), list(templates), c, temperature)


@st.cache_data(max_entries=32, show_spinner=False)
def patch_heat(model: str, image: tuple, text: str, others: tuple[str, ...]):
    c = load_clip(model)
    img = get_image(*image)
    return vision.preprocess(img, c.transform)[1], *clip.text_patch_similarity(img, text, c, list(others))


def matrix_and_map(model: str, images: list, texts: list[str]) -> None:
    """Sections 1 and 3 share one embedding pass; section 2 (zero-shot) sits between them."""
    labels = [n for n, _ in images]
    img_emb, txt_emb = embed(model, tuple(images), tuple(texts))
    sim = clip.cosine(img_emb, txt_emb)
    sim_fig, joint_fig, coords, var = matrix_figures(model, tuple(images), tuple(texts))
    st.header("1 · Images × texts")
    best = sim.argmax(1)
    show_figure(sim_fig, "clip-similarity",
                data=pd.DataFrame(sim, index=labels, columns=texts).reset_index(names="image"),
                summary=f"{len(labels)} images × {len(texts)} texts, cosine from {sim.min():.2f} to {sim.max():.2f}. "
                        + "; ".join(f"{labels[i]} → “{texts[j]}”" for i, j in enumerate(best[:4])) + ".")
    zero_shot_section(model, images)
    st.header("3 · One space for both")
    show_figure(joint_fig, "clip-joint-map",
                data=pd.DataFrame({"label": labels + texts, "kind": ["image"] * len(labels) + ["text"] * len(texts),
                                   "pc1": coords[:, 0], "pc2": coords[:, 1]}),
                summary=f"PCA of {len(labels)} image and {len(texts)} text embeddings together ({var.sum():.0%} of the "
                        "variance). The two kinds often sit apart (the 'modality gap'); matches are close in angle.")


def zero_shot_section(model: str, images: list) -> None:
    st.header("2 · Zero-shot classification")
    labels = [n for n, _ in images]
    c1, c2 = st.columns(2)
    with c1:
        target = url_select("Image to classify", labels, "zs_image", labels[0])
        classes = [c.strip() for c in url_text("Class names, comma-separated", "classes",
                                               ", ".join(clip.DEFAULT_CLASSES)).split(",") if c.strip()]
    with c2:
        templates = url_multiselect("Prompt templates", list(clip.TEMPLATES), "templates", list(clip.DEFAULT_TEMPLATES))
        temp = url_slider("Temperature (divides the logits)", "temp", 0.05, 5.0, 1.0, step=0.05)
    zs = zero_shot(model, images[labels.index(target)], tuple(classes),
                   tuple(clip.TEMPLATES[t] for t in templates), temp)
    order = np.argsort(-zs.probs)
    show_figure(basic.bars([zs.classes[i] for i in order], zs.probs[order], x_title="probability", highlight=0),
                "clip-zero-shot", data=pd.DataFrame({"class": zs.classes, "cosine": zs.cosine, "logit": zs.logits,
                                                     "probability": zs.probs}),
                summary=f"{target}: “{zs.classes[order[0]]}” with p = {zs.probs[order[0]]:.2f} (cosine "
                        f"{zs.cosine[order[0]]:.3f}); softmax of {zs.logit_scale:.1f} × cosine / {temp:g}. "
                        f"Chance is {1 / len(classes):.2f}; a higher temperature flattens the distribution.")


def patch_section(model: str, images: list, texts: list[str]) -> None:
    st.header("4 · Which patches match a text")
    labels = [n for n, _ in images]
    c1, c2 = st.columns(2)
    with c1:
        ptarget = url_select("Image", labels, "patch_image", labels[0])
    with c2:
        ptext = url_select("Text", texts, "patch_text", texts[0])
    pix, raw, rel = patch_heat(model, images[labels.index(ptarget)], ptext, tuple(texts))
    heat = rel if len(texts) > 1 else raw
    r, c = np.unravel_index(heat.argmax(), heat.shape)
    what = "cosine minus the mean over all texts" if len(texts) > 1 else "cosine"
    show_figure(figs.overlay(pix, heat, title=f"“{ptext}” vs each patch", label="Δ cosine" if len(texts) > 1 else "cosine"),
                "clip-text-patch", data=pd.DataFrame({"raw_cosine": raw.ravel(), "relative": rel.ravel()}),
                summary=f"Shown: {what}. Best patch: row {r}, column {c} ({heat.max():+.3f}; raw cosine {raw[r, c]:.3f}, "
                        f"mean {raw.mean():.3f}). CLIP is trained on the CLS token only, so this is a coarse hint, not a mask"
                        + (": the tiny CLIP's patch tokens are not aligned with text (shapes often score lowest), so "
                           "read this map as a negative result." if model == clip.TINY else "."))


def live_training(hosted: bool, budget: float = 60.0) -> None:
    """A fresh tiny CLIP trained on synthetic shapes, with the held-out matrix drawn as it learns."""
    st.header("6 · Train a tiny CLIP live")
    live = tiny_clip.PRESETS["live"]
    st.write(f"A fresh {live.vision_layers}+{live.text_layers}-layer CLIP (width {live.vision_width}) learns from "
             f"synthetic shapes for up to {live.steps} steps or {budget:.0f} s. Watch the 8 held-out images × their 8 "
             "captions: the diagonal (right pairs) brightens as training goes.")
    if hosted:
        st.info("Live training is off in the hosted demo (it would take a CPU core for a minute); run the app "
                "locally to try it. The pretrained tiny CLIP above was trained the same way.", icon=":material/block:")
    elif st.button("Train it live", icon=":material/play_arrow:"):
        bar, spot, snaps, t0 = st.progress(0.0, "starting…"), st.empty(), [], time.perf_counter()

        def show(row, s):
            snaps.append((row, s))
            bar.progress(min(1.0, row["step"] / live.steps), f"step {row['step']} · loss {row['loss']:.2f}")
            spot.plotly_chart(basic.heatmap(s, x_title="caption", y_title="image", zmin=float(s.min()), zmax=float(s.max()),
                                            title=f"step {row['step']} (colour fitted to this step)", height=320),
                              key=f"live-{row['step']}")

        tiny_clip.train(live, callback=show, should_stop=lambda: time.perf_counter() - t0 > budget)
        spot.empty()
        st.session_state["clip-live"] = snaps
    if snaps := st.session_state.get("clip-live"):
        hist = [row for row, _ in snaps]
        show_figure(figs.training_curve(hist), "clip-live-loss", data=pd.DataFrame(hist),
                    summary=f"{hist[-1]['step']} steps in {hist[-1]['seconds']:.0f} s: loss {hist[0]['loss']:.2f} → "
                            f"{hist[-1]['loss']:.2f} (chance level ln {live.batch_size} = {np.log(live.batch_size):.2f}).")
        cols = st.columns(3)
        lo, hi = min(float(s.min()) for _, s in snaps), max(float(s.max()) for _, s in snaps)
        st.caption(f"One colour scale for the three steps, fitted to their cosines ({lo:.2f} to {hi:.2f}): the "
                   "right pairs sit on the diagonal.")
        for col, (row, s) in zip(cols, [snaps[0], snaps[len(snaps) // 2], snaps[-1]]):
            with col:
                show_figure(basic.heatmap(s, x_title="caption", y_title="image", zmin=lo, zmax=hi, height=320,
                                          title=f"step {row['step']}"), f"clip-live-step-{row['step']}",
                            data=pd.DataFrame(s), summary=f"Step {row['step']}: loss {row['loss']:.2f}, right caption "
                            f"ranked first for {row['probe_top1']:.0%} of the 8 images.")
