"""The page table. A page is listed in the navigation only when its file exists (ships working)."""
from __future__ import annotations

from dataclasses import dataclass

from core.runtime.paths import REPO


@dataclass(frozen=True)
class PageInfo:
    section: str
    file: str        # relative to the repo root
    title: str
    icon: str
    url_path: str


PAGES: list[PageInfo] = [
    PageInfo("Start", "pages/home.py", "One sentence through the transformer", ":material/route:", "home"),
    PageInfo("Start", "pages/tour.py", "Presenter tour", ":material/co_present:", "tour"),
    PageInfo("Text", "pages/tokenization.py", "Tokenization", ":material/text_fields:", "tokenization"),
    PageInfo("Text", "pages/embeddings.py", "Embeddings & positions", ":material/scatter_plot:", "embeddings"),
    PageInfo("Attention", "pages/attention.py", "Attention maps", ":material/grid_on:", "attention"),
    PageInfo("Attention", "pages/causal.py", "Causal masks & generation", ":material/change_history:", "causal"),
    PageInfo("Attention", "pages/inside.py", "Inside the model", ":material/biotech:", "inside"),
    PageInfo("Attention", "pages/encoder_decoder.py", "Encoder–decoder & cross-attention", ":material/graphic_eq:",
             "encoder-decoder"),
    PageInfo("Efficiency", "pages/sparse.py", "Sparse & linear attention", ":material/blur_on:", "sparse"),
    PageInfo("Efficiency", "pages/kv_cache.py", "KV cache & MLA", ":material/memory:", "kv-cache"),
    PageInfo("Vision", "pages/vit_patches.py", "ViT patches", ":material/grid_view:", "vit"),
    PageInfo("Vision", "pages/clip.py", "CLIP similarity", ":material/image_search:", "clip"),
    PageInfo("Scaling", "pages/scaling.py", "Scaling laws", ":material/show_chart:", "scaling"),
]


def registered() -> list[PageInfo]:
    return [p for p in PAGES if (REPO / p.file).exists()]


def by_url(url_path: str) -> PageInfo:
    return next(p for p in PAGES if p.url_path == url_path)
