"""Vision benchmarks: DINOv2 ViT-S/14 forward and analysis at 224 and 518 px, embedding cost on CPU,
and warm reruns of the ViT (DINOv2 by default) and CLIP pages.

    .venv/bin/python -m bench.bench_vision   ->  bench/results/vision.md
"""
from __future__ import annotations

import os
import pathlib
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["ATLAS_DEVICE"] = "cpu"

from bench.common import md_table, median_time, write_report  # noqa: E402

TEXTS = ["a red circle", "a blue square", "a green triangle", "a yellow star", "a purple diamond",
         "an orange cross", "a small red circle on the left", "a large blue square at the top",
         "a picture of a green star and a red cross", "a drawing of a purple circle in the middle"]


def embed_rows() -> list[dict]:
    import open_clip

    from core.vision import clip
    from core.vision import vit as vision
    img = vision.sample_image("chelsea (cat)")
    rows = []
    tiny = clip.load(clip.TINY)
    # ViT-B-32's architecture with random weights: the same compute as the laion2b model (offline)
    m, _, tf = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    m.eval().requires_grad_(False)
    tok = open_clip.get_tokenizer("ViT-B-32")
    b32 = clip.LoadedClip(clip.REGISTRY[clip.VIT_B32], m, tf, tok, tok.context_length)
    for name, c in (("tiny-clip (trained here)", tiny), ("ViT-B-32 architecture (random weights)", b32)):
        t_img, _ = median_time(lambda c=c: clip.embed_images([img], c), repeat=7)
        t_txt, _ = median_time(lambda c=c: clip.embed_texts(TEXTS, c), repeat=7)
        t_both, _ = median_time(lambda c=c: clip.similarity([img], TEXTS, model=c), repeat=7)
        rows.append({"model": name, "params (M)": f"{sum(p.numel() for p in c.model.parameters()) / 1e6:.1f}",
                     "1 image (ms)": f"{t_img * 1e3:.1f}", "10 texts (ms)": f"{t_txt * 1e3:.1f}",
                     "1 image + 10 texts, similarity (ms)": f"{t_both * 1e3:.1f}"})
    return rows


def dinov2_rows(repeat: int = 7) -> list[dict]:
    """The HF forward pass alone, and the whole ``analyse_image`` (block by block through the adapter,
    every layer's weights, the shared rollout, positions, PCA)."""
    import torch

    from core.vision import analyse_image, dinov2
    from core.vision import vit as vision
    lv = dinov2.load()
    img = vision.sample_image("chelsea (cat)")
    rows = []
    for side in (224, 518):
        x, _ = vision.preprocess(img, dinov2.transform(side))

        def forward(x=x):
            with torch.inference_mode():
                lv.model(pixel_values=x[None])
        t_fwd, fwd = median_time(forward, repeat=repeat)
        t_all, samples = median_time(lambda side=side: analyse_image(img, lv, side), repeat=repeat)
        g = side // 14
        rows.append({"resolution": f"{side} px", "patches": f"{g}×{g} = {g * g}", "HF forward (ms)": f"{t_fwd * 1e3:.0f}",
                     "HF forward min–max (ms)": f"{min(fwd) * 1e3:.0f}–{max(fwd) * 1e3:.0f}",
                     "analyse_image (ms)": f"{t_all * 1e3:.0f}",
                     "analyse_image min–max (ms)": f"{min(samples) * 1e3:.0f}–{max(samples) * 1e3:.0f}"})
    return rows


def page_rows(repeat: int = 7) -> list[dict]:
    from pages.ui.nav import by_url
    from tests.apptest_util import problems, run_page
    rows = []
    for url, params in (("vit", {}), ("vit", {"res": "518"}), ("clip", {})):
        t = time.perf_counter()
        at = run_page(by_url(url), params)
        cold = time.perf_counter() - t
        assert problems(at) == [], problems(at)
        med, samples = median_time(at.run, repeat=repeat, warmup=1)
        label = url + "".join(f"?{k}={v}" for k, v in params.items())
        rows.append({"page": label, "first run incl. model load (s)": f"{cold:.2f}",
                     "warm rerun median (ms)": f"{med * 1e3:.0f}",
                     "warm rerun min–max (ms)": f"{min(samples) * 1e3:.0f}–{max(samples) * 1e3:.0f}",
                     "≤ 300 ms": "yes" if med <= 0.3 else "NO"})
    return rows


def main() -> pathlib.Path:
    import torch
    torch.set_num_threads(min(2, torch.get_num_threads()))
    dino = dinov2_rows()
    emb = embed_rows()
    pages = page_rows()
    body = f"""
## DINOv2 ViT-S/14 on CPU

scikit-image's chelsea through DINOv2's own preprocessing; medians of 7 after a warm-up. The HF forward is
`Dinov2Model(pixel_values)`; `analyse_image` runs the blocks one by one through the ViT adapter, keeps every
layer's CLS row, and rolls attention out through the shared `core.attention.rollout` (float64 products of
(pos, pos) matrices, which dominate at 518 px: 1,370 positions).

{md_table(dino)}

## Embedding on CPU

One 451×300 photo (resized/cropped by the model's own transform) and 10 short captions; medians of 7
after a warm-up.

{md_table(emb)}

## Warm rerun of the pages

AppTest runs the page through app.py once (cold: loads the model, embeds, builds every figure), then
re-runs it {7} times with nothing changed: the embeddings and analyses come from `st.cache_data`,
the model and the figures from `st.cache_resource`; what remains is widget handling and sending the
figures. The ViT page runs DINOv2 on chelsea at 224 px by default; `res=518` is its largest grid.

{md_table(pages)}
"""
    return write_report("vision", "Vision pages: embedding cost and warm reruns", body)


if __name__ == "__main__":
    print(main().read_text())
