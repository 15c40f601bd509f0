"""Train a tiny CLIP on synthetic shapes (Radford et al. 2021, contrastive image-text pre-training).

The model is a real ``open_clip.CLIP``: a ViT image tower (Dosovitskiy et al. 2020) on 64x64
images with 8x8 patches, and a causal transformer text tower over open_clip's bundled CLIP BPE
tokenizer (context length 24). Training minimises the symmetric InfoNCE loss over a batch's
image x caption similarity matrix, with a learned logit scale. Data: ``core.vision.synthetic_shapes``;
most of each batch is hard-negative groups (one scene with only a shape or colour swapped), since
in random batches colour and position alone tell the pairs apart and shape is never learned.

    python -m core.vision.tiny_clip --out assets/tiny_clip --seed 0

Importable for live training: ``train(cfg, callback=...)`` calls back every ``cfg.report_every``
steps with the current probe similarity matrix. Shapes: images (batch, 3, H, W); tokens
(batch, context); embeddings (batch, embed_dim).
"""
from __future__ import annotations

import argparse
import json
import math
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import open_clip
import torch
import torch.nn.functional as F

import core.vision.synthetic_shapes as shapes
from core.runtime.device import get_device

MEAN, STD = open_clip.OPENAI_DATASET_MEAN, open_clip.OPENAI_DATASET_STD


@dataclass(frozen=True)
class TinyClipConfig:
    embed_dim: int = 64
    image_size: int = 64
    patch_size: int = 8
    vision_width: int = 64
    vision_layers: int = 4
    vision_head_width: int = 32     # heads = width / head_width
    text_width: int = 64
    text_layers: int = 4
    text_heads: int = 2
    context_length: int = 24
    steps: int = 2400
    batch_size: int = 64
    lr: float = 1e-3
    warmup: int = 200
    weight_decay: float = 0.1
    seed: int = 0
    report_every: int = 50
    probe_size: int = 8             # probe images x captions tracked during training
    data_start: int = 0             # first batch index of the training stream (continuations)
    contrast_groups: int = 12       # hard-negative groups per batch (shape or colour swapped), the rest random
    group_size: int = 4
    colour_group_every: int = 4     # every n-th group swaps colour instead of shape (0: never)

    def __post_init__(self):
        if self.contrast_groups * self.group_size > self.batch_size:
            raise ValueError("contrast_groups * group_size must fit in batch_size")


PRESETS = {
    "default": TinyClipConfig(),
    # "train it live" on the page: narrower and shallower so it visibly learns in under a minute
    "live": TinyClipConfig(embed_dim=32, image_size=32, vision_width=32, vision_layers=2, text_width=32,
                           text_layers=2, text_heads=1, steps=150, batch_size=32, lr=3e-3,
                           warmup=10, report_every=10, contrast_groups=4),
    "test": TinyClipConfig(embed_dim=32, vision_width=32, vision_layers=1, text_width=32,
                           text_layers=1, text_heads=2, steps=4, batch_size=8, report_every=2, contrast_groups=1),
}


def build_model(cfg: TinyClipConfig) -> open_clip.CLIP:
    vision = dict(image_size=cfg.image_size, patch_size=cfg.patch_size, width=cfg.vision_width,
                  layers=cfg.vision_layers, head_width=cfg.vision_head_width)
    text = dict(context_length=cfg.context_length, vocab_size=49408, width=cfg.text_width,
                heads=cfg.text_heads, layers=cfg.text_layers)
    return open_clip.CLIP(embed_dim=cfg.embed_dim, vision_cfg=vision, text_cfg=text)


def tokenizer(cfg: TinyClipConfig):
    """open_clip's bundled CLIP BPE (49,408 tokens), shortened to the model's context length."""
    return open_clip.get_tokenizer("ViT-B-32", context_length=cfg.context_length)


def preprocess(cfg: TinyClipConfig):
    """The model's own eval transform: resize shortest side, centre crop, normalise."""
    return open_clip.image_transform(cfg.image_size, is_train=False, mean=MEAN, std=STD)


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (batch, H, W, 3) already at model size -> normalised float (batch, 3, H, W).

    Equal to ``preprocess`` for images that are already image_size square (resize is a no-op).
    """
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


@dataclass
class TrainResult:
    model: open_clip.CLIP
    cfg: TinyClipConfig
    history: list[dict]          # one row per report: step, loss, seconds, probe_diag, probe_acc
    seconds: float


def _lr(cfg: TinyClipConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * t))


def clip_loss(img: torch.Tensor, txt: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric cross-entropy over the (batch, batch) cosine-similarity matrix; diagonal = pairs."""
    logits = logit_scale * img @ txt.T                     # (batch, batch)
    labels = torch.arange(len(img), device=img.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


@torch.no_grad()
def probe_similarity(model, tok, images: torch.Tensor, captions: list[str]) -> np.ndarray:
    """Cosine similarity (n_images, n_captions) of the probe set, for progress views."""
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    i = F.normalize(model.encode_image(images.to(dev)), dim=-1)
    t = F.normalize(model.encode_text(tok(captions).to(dev)), dim=-1)
    model.train(was)
    return (i @ t.T).cpu().numpy()


def _train_batch(cfg: TinyClipConfig, scfg: shapes.ShapesConfig, index: int) -> tuple[np.ndarray, list[str]]:
    """Batch ``index`` of the train stream: random scenes plus hard-negative groups, (batch, H, W, 3) uint8."""
    n_random = cfg.batch_size - cfg.contrast_groups * cfg.group_size
    parts = []
    if n_random:
        parts.append(shapes.make_batch(n_random, split="train", seed=cfg.seed, start=index * n_random, cfg=scfg))
    if cfg.contrast_groups:
        parts.append(shapes.make_contrast_batch(cfg.contrast_groups, cfg.group_size, split="train", seed=cfg.seed,
                                                start=index * cfg.contrast_groups, cfg=scfg,
                                                colour_every=cfg.colour_group_every))
    return np.concatenate([p[0] for p in parts]), [c for p in parts for c in p[1]]


def train(cfg: TinyClipConfig = PRESETS["default"], *, callback: Callable[[dict, np.ndarray], None] | None = None,
          device: torch.device | None = None, log: Callable[[str], None] | None = None,
          should_stop: Callable[[], bool] | None = None, init: dict | None = None) -> TrainResult:
    """Train with a fixed seed, from scratch or from ``init`` (a state dict of the same config).

    ``callback(row, probe_sim)`` every report_every steps.
    """
    device = device or get_device()
    torch.manual_seed(cfg.seed)
    model = build_model(cfg)
    if init is not None:
        model.load_state_dict(init)
    model = model.to(device)
    tok = tokenizer(cfg)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": other, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6)
    scfg = replace(shapes.DEFAULT, image_size=cfg.image_size)
    p_img, p_cap, _ = shapes.make_batch(cfg.probe_size, split="heldout", seed=cfg.seed + 1000, cfg=scfg)
    p_img = images_to_tensor(p_img)
    history: list[dict] = []
    t0 = time.perf_counter()
    model.train()
    for step in range(cfg.steps):
        for g in opt.param_groups:
            g["lr"] = _lr(cfg, step)
        imgs, caps = _train_batch(cfg, scfg, cfg.data_start + step)
        x, t = images_to_tensor(imgs).to(device), tok(caps).to(device)
        img = F.normalize(model.encode_image(x), dim=-1)
        txt = F.normalize(model.encode_text(t), dim=-1)
        loss = clip_loss(img, txt, model.logit_scale.exp())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        last = step == cfg.steps - 1
        stop = should_stop() if should_stop else False
        if (step + 1) % cfg.report_every == 0 or last or stop:
            sim = probe_similarity(model, tok, p_img, p_cap)
            row = {"step": step + 1, "loss": float(loss.detach()), "seconds": time.perf_counter() - t0,
                   "logit_scale": float(model.logit_scale.detach().exp()),
                   "probe_diag_minus_off": float(np.diag(sim).mean() - sim[~np.eye(len(sim), dtype=bool)].mean()),
                   "probe_top1": float((sim.argmax(1) == np.arange(len(sim))).mean())}
            history.append(row)
            if log:
                log(json.dumps(row))
            if callback:
                callback(row, sim)
        if stop:
            break
    model.eval()
    return TrainResult(model, cfg, history, time.perf_counter() - t0)


@torch.no_grad()
def evaluate(model, cfg: TinyClipConfig, *, n: int = 500, seed: int = 12345) -> dict:
    """Held-out accuracy, each with its chance level.

    - zero-shot: single-object held-out images vs the 36 "a <colour> <shape>" prompts (chance 1/36)
    - retrieval: n held-out images (1-2 objects) vs their own n captions, top-1 (chance 1/n)
    """
    model.eval()
    dev = next(model.parameters()).device
    tok = tokenizer(cfg)
    classes = shapes.class_names()
    t = F.normalize(model.encode_text(tok([f"a {c}" for c in classes]).to(dev)), dim=-1)
    scfg = replace(shapes.DEFAULT, image_size=cfg.image_size)
    imgs, _, scenes = shapes.make_batch(n, split="heldout", seed=seed, n_objects=1, cfg=scfg)
    i = F.normalize(model.encode_image(images_to_tensor(imgs).to(dev)), dim=-1)
    pred = (i @ t.T).argmax(1).cpu().numpy()
    truth = np.array([classes.index(s.objects[0].label) for s in scenes])
    zs = float((pred == truth).mean())
    colour_ok = float(np.mean([classes[p].split()[0] == classes[g].split()[0] for p, g in zip(pred, truth)]))
    shape_ok = float(np.mean([classes[p].split()[1] == classes[g].split()[1] for p, g in zip(pred, truth)]))
    imgs, caps, _ = shapes.make_batch(n, split="heldout", seed=seed + 1, cfg=scfg)
    i = F.normalize(model.encode_image(images_to_tensor(imgs).to(dev)), dim=-1)
    tt = F.normalize(model.encode_text(tok(caps).to(dev)), dim=-1)
    sim = i @ tt.T
    ret = float((sim.argmax(1).cpu().numpy() == np.arange(n)).mean())
    ret_t2i = float((sim.argmax(0).cpu().numpy() == np.arange(n)).mean())
    return {"n": n, "zero_shot_top1": zs, "zero_shot_chance": 1 / len(classes),
            "zero_shot_colour": colour_ok, "zero_shot_shape": shape_ok,
            "retrieval_i2t_top1": ret, "retrieval_t2i_top1": ret_t2i, "retrieval_chance": 1 / n}


def save(result: TrainResult, out: Path, extra: dict | None = None) -> Path:
    """fp16 safetensors weights + config.json (config, history, extra metadata)."""
    from safetensors.torch import save_file
    out.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in result.model.state_dict().items()}
    save_file(sd, str(out / "model.safetensors"))
    meta = {"config": asdict(result.cfg), "train_seconds": result.seconds, "history": result.history,
            **(extra or {})}
    (out / "config.json").write_text(json.dumps(meta, indent=1))
    return out


def load(path: Path, device: torch.device | None = None) -> tuple[open_clip.CLIP, TinyClipConfig, dict]:
    """Rebuild the architecture from config.json and load the fp16 weights as float32."""
    from safetensors.torch import load_file
    meta = json.loads((path / "config.json").read_text())
    cfg = TinyClipConfig(**meta["config"])
    model = build_model(cfg)
    sd = {k: v.float() for k, v in load_file(str(path / "model.safetensors")).items()}
    model.load_state_dict(sd)
    model.eval().requires_grad_(False)
    return model.to(device or get_device()), cfg, meta


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("assets/tiny_clip"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--preset", default="default", choices=list(PRESETS))
    ap.add_argument("--init", type=Path, default=None, help="continue from this output folder's weights")
    ap.add_argument("--threads", type=int, default=2,
                    help="CPU threads; 1 is faster when the cores are oversubscribed")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = replace(PRESETS[args.preset], seed=args.seed, **({"steps": args.steps} if args.steps else {}))
    init = None
    if args.init:
        prev, prev_cfg, _ = load(args.init, torch.device("cpu"))
        init = prev.state_dict()
        cfg = replace(cfg, data_start=prev_cfg.data_start + prev_cfg.steps)   # fresh samples
    print(json.dumps({"config": asdict(cfg), "device": str(get_device())}), flush=True)
    stop = []    # SIGUSR1 ends training early; the model is still evaluated and saved
    signal.signal(signal.SIGUSR1, lambda *_: stop.append(True))
    result = train(cfg, log=lambda s: print(s, flush=True), should_stop=lambda: bool(stop), init=init)
    ev = evaluate(result.model, cfg)
    print(json.dumps({"eval": ev, "train_seconds": result.seconds}), flush=True)
    save(result, args.out, {"eval": ev, "device": str(get_device()), "threads": args.threads,
                            "command": f"python -m core.vision.tiny_clip --out {args.out} --seed {args.seed}"
                                       + (f" --steps {args.steps}" if args.steps else "")
                                       + (f" --preset {args.preset}" if args.preset != "default" else "")
                                       + (f" --init {args.init}" if args.init else "")})


if __name__ == "__main__":
    main()
