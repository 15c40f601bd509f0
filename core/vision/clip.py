"""CLIP models and the maths the CLIP page shows (Radford et al. 2021, "Learning Transferable
Visual Models From Natural Language Supervision").

Two sources through one open_clip code path:
- "tiny-clip (trained here)": ``assets/tiny_clip``, trained by ``core.vision.tiny_clip`` on synthetic
  shapes; always available offline.
- "ViT-B-32 laion2b": ``open_clip.create_model_and_transforms("ViT-B-32",
  pretrained="laion2b_s34b_b79k")``; needs the network (or a warm Hugging Face cache).

Shapes: image embeddings (image, embed_dim); text embeddings (text, embed_dim); similarity
(image, text); patch similarity (grid, grid). Embeddings are L2-normalised, so similarity is
cosine: every entry lies in [-1, 1] and sim(images, texts) == sim(texts, images).T.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

import core.vision.vit as vision
from core.runtime.device import get_device
from core.runtime.errors import InputError, ModelUnavailable
from core.runtime.paths import ASSETS

TINY = "tiny-clip (trained here)"
VIT_B32 = "ViT-B-32 laion2b"
MAX_IMAGES, MAX_TEXTS = 16, 64


@dataclass(frozen=True)
class ClipSpec:
    name: str
    arch: str
    pretrained: str | None      # open_clip pretrained tag; None = our own weights in assets/
    trained_on: str
    origin: str


REGISTRY = {
    TINY: ClipSpec(TINY, "ViT 64px/8 + 4-layer text, width 64", None,
                   "synthetic images of coloured shapes with templated captions, generated on the fly (no natural photos)",
                   "trained on this machine's CPU by core/tiny_clip.py (weights and MODEL_CARD.md in assets/tiny_clip)"),
    VIT_B32: ClipSpec(VIT_B32, "ViT-B-32", "laion2b_s34b_b79k",
                      "LAION-2B: 2 billion English image-text pairs from the web (34B samples seen)",
                      "LAION's OpenCLIP release, fetched from the Hugging Face hub"),
}


@dataclass
class LoadedClip:
    spec: ClipSpec
    model: torch.nn.Module     # open_clip.CLIP, eval mode, shared read-only
    transform: object           # the model's own eval preprocess
    tokenizer: object
    context_length: int


def pretrained_cached(name: str = VIT_B32) -> bool:
    """True when the pretrained weights are already on disk (no network needed)."""
    import open_clip
    from huggingface_hub import try_to_load_from_cache
    spec = REGISTRY[name]
    hub = open_clip.get_pretrained_cfg(spec.arch, spec.pretrained).get("hf_hub", "").rstrip("/")
    for fn in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
        if hub and isinstance(try_to_load_from_cache(hub, fn), str):
            return True
    return False


def default_model() -> str:
    """ViT-B-32 laion2b when its weights are at hand, else the tiny CLIP trained here."""
    return VIT_B32 if pretrained_cached() else TINY


def load(name: str = TINY) -> LoadedClip:
    import open_clip
    if name not in REGISTRY:
        raise InputError(f"unknown CLIP model {name!r}; choose one of {list(REGISTRY)}")
    spec = REGISTRY[name]
    if spec.pretrained is None:
        import core.vision.tiny_clip as tiny_clip
        path = ASSETS / "tiny_clip"
        if not (path / "model.safetensors").exists():
            raise ModelUnavailable(f"{path}/model.safetensors is missing; run "
                                   "`python -m core.vision.tiny_clip --out assets/tiny_clip` (its defaults rebuild it)")
        model, cfg, _ = tiny_clip.load(path, get_device())
        return LoadedClip(spec, model, tiny_clip.preprocess(cfg), tiny_clip.tokenizer(cfg), cfg.context_length)
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    if offline and not pretrained_cached(name):
        raise ModelUnavailable(f"{name} needs its weights from the Hugging Face hub, and this "
                               "server is offline (HF_HUB_OFFLINE=1). Use the tiny CLIP trained here.")
    try:
        model, _, transform = open_clip.create_model_and_transforms(spec.arch, pretrained=spec.pretrained,
                                                                    device=get_device())
    except Exception as exc:  # noqa: BLE001 - any fetch failure becomes one clear message
        raise ModelUnavailable(f"Could not fetch {name} ({type(exc).__name__}); it needs the network "
                               "the first time. The tiny CLIP trained here works offline.") from None
    model.eval().requires_grad_(False)
    tok = open_clip.get_tokenizer(spec.arch)
    return LoadedClip(spec, model, transform, tok, tok.context_length)


# --- embeddings -----------------------------------------------------------------------

def check_texts(texts: list[str], clip: LoadedClip) -> list[str]:
    """Refuse empty lists, blank entries, too many texts and texts longer than the context."""
    texts = [t.strip() for t in texts]
    if not texts:
        raise InputError("The text list is empty: enter at least one caption or class name.")
    if any(not t for t in texts):
        raise InputError("One of the texts is blank; remove empty lines.")
    if len(texts) > MAX_TEXTS:
        raise InputError(f"{len(texts)} texts; the cap is {MAX_TEXTS}.")
    inner = clip.context_length - 2          # start and end tokens
    for t in texts:
        n = len(clip.tokenizer.encode(t)) if hasattr(clip.tokenizer, "encode") else 0
        if n > inner:
            raise InputError(f"“{t[:60]}” is {n} tokens; {clip.spec.name} reads at most {inner} "
                             "(its context length minus start/end). Shorten it; nothing is cut silently.")
    return texts


@torch.no_grad()
def embed_texts(texts: list[str], clip: LoadedClip) -> np.ndarray:
    """L2-normalised text embeddings (text, embed_dim)."""
    texts = check_texts(texts, clip)
    dev = next(clip.model.parameters()).device
    return F.normalize(clip.model.encode_text(clip.tokenizer(texts).to(dev)), dim=-1).cpu().numpy()


@torch.no_grad()
def embed_images(images: list, clip: LoadedClip) -> np.ndarray:
    """L2-normalised image embeddings (image, embed_dim), through the model's own preprocess."""
    if not images:
        raise InputError("No images: choose or upload at least one.")
    if len(images) > MAX_IMAGES:
        raise InputError(f"{len(images)} images; the cap is {MAX_IMAGES}.")
    dev = next(clip.model.parameters()).device
    x = torch.stack([vision.preprocess(im, clip.transform)[0] for im in images]).to(dev)
    return F.normalize(clip.model.encode_image(x), dim=-1).cpu().numpy()


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of rows: (n, d) x (m, d) -> (n, m). Normalises both sides itself."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True).clip(1e-12)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True).clip(1e-12)
    return a @ b.T


def similarity(images: list, texts: list[str], model: str | LoadedClip = TINY) -> np.ndarray:
    """The N images x M texts cosine-similarity matrix (image, text)."""
    clip = load(model) if isinstance(model, str) else model
    return cosine(embed_images(images, clip), embed_texts(texts, clip))


# --- zero-shot classification ----------------------------------------------------------

TEMPLATES = {
    "a {}": "a {}.",
    "a picture of a {}": "a picture of a {}.",
    "a drawing of a {}": "a drawing of a {}.",
    "a photo of a {}": "a photo of a {}.",
    "a close-up photo of the {}": "a close-up photo of the {}.",
}


# The page's defaults. The first sample scene holds two purple squares, so its right answer,
# "purple square", is among the classes (tests/test_captions.py checks the tiny CLIP's top-1).
DEFAULT_CLASSES = ("purple square", "red circle", "blue square", "green triangle", "yellow star",
                   "purple diamond", "red cross")
DEFAULT_TEMPLATES = ("a {}", "a picture of a {}")


@dataclass(frozen=True)
class ZeroShot:
    classes: list[str]
    templates: list[str]
    cosine: np.ndarray          # (class,): image vs the template-averaged class embedding
    logits: np.ndarray          # (class,): logit_scale * cosine / temperature
    probs: np.ndarray           # (class,): softmax of logits
    logit_scale: float
    temperature: float


def zero_shot(image_emb: np.ndarray, classes: list[str], templates: list[str], clip: LoadedClip,
              temperature: float = 1.0) -> ZeroShot:
    """CLIP's zero-shot classifier: one prompt per (class, template), embeddings averaged per class
    and renormalised (prompt ensembling, CLIP section 3.1.4), softmax at the model's logit_scale."""
    if not templates:
        raise InputError("Choose at least one prompt template.")
    if any("{}" not in t for t in templates):
        raise InputError("Every template needs a {} where the class name goes.")
    if temperature <= 0:
        raise InputError("The temperature must be positive.")
    classes = check_texts(classes, clip)
    if len(templates) > len(TEMPLATES) + 3:
        raise InputError(f"{len(templates)} templates; the cap is {len(TEMPLATES) + 3}.")
    per = [embed_texts([t.format(c) for c in classes], clip) for t in templates]   # template x (class, d)
    e = np.mean(per, axis=0)                                                       # (class, d)
    e = e / np.linalg.norm(e, axis=-1, keepdims=True)
    cos = cosine(image_emb[None], e)[0]
    scale = float(clip.model.logit_scale.exp())
    logits = scale * cos / temperature
    p = np.exp(logits - logits.max())
    return ZeroShot(classes, list(templates), cos, logits, p / p.sum(), scale, temperature)


# --- joint map and text -> patch heatmap -------------------------------------------------

def joint_map(image_emb: np.ndarray, text_emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PCA of images and texts together, in one space: (coords (image+text, 2), variance ratio)."""
    return vision.pca_2d(np.concatenate([image_emb, text_emb]))


@torch.no_grad()
def text_patch_similarity(image, text: str, clip: LoadedClip, others: list[str] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Cosine between one text and every patch token projected into the joint space.

    Returns (raw, relative), each (grid, grid). ``relative`` subtracts, per patch, the mean cosine
    over all texts (``text`` plus ``others``): patch tokens share a large text-independent offset,
    and the contrast shows where *this* text wins. CLIP is trained on the CLS token only, so both
    are coarse, approximate localisations (as in MaskCLIP, Zhou et al. 2022), not segmentations.
    """
    x, _ = vision.preprocess(image, clip.transform)
    tokens = vision.patch_tokens(clip.model.visual, x[None])[0, 1:].float().cpu().numpy()   # (n, d)
    texts = [text] + [t for t in others if t != text]
    sims = cosine(tokens, embed_texts(texts, clip))                                        # (n, text)
    g = int(round(len(sims) ** 0.5))
    return sims[:, 0].reshape(g, g), (sims[:, 0] - sims.mean(1)).reshape(g, g)
