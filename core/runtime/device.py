"""Device and dtype choice for the engine.

Device: CUDA when present, else CPU; ``ATLAS_DEVICE`` overrides.

Dtype: bfloat16 where the hardware runs it fast, float32 elsewhere; ``ATLAS_DTYPE``
(``float32``, ``bfloat16`` or ``auto``) overrides. "Fast" is decided once at start-up from what the
hardware reports, not from a timing:
- CUDA: ``torch.cuda.is_bf16_supported()`` (Ampere and later);
- CPU: the ``amx_bf16`` or ``avx512_bf16`` flag in ``/proc/cpuinfo`` (Intel Sapphire Rapids and
  later, AMD Zen 4 and later). Without one of them PyTorch emulates bf16 matrix products and they
  run several times *slower* than float32 (an AVX2-only AMD EPYC measured 51 GFLOP/s in fp32
  against about 1 in bf16 on a 2048 x 2048 product, ``bench/bench_speed.py``).

Views that need more precision upcast: attention weights are a float32 softmax of the
recomputed scores, and every next-token probability is a float32 softmax of the logits.
``tests/test_dtype.py`` pins how far bf16 moves them from float32 on the bundled models.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import torch

DTYPES = {"float32": torch.float32, "fp32": torch.float32,
          "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def get_device() -> torch.device:
    """The device every engine computation runs on.

    ``ATLAS_DEVICE`` (``cpu``, ``cuda``, ``cuda:1`` ...) wins when set; a CUDA request on a
    machine without CUDA raises instead of silently falling back.
    """
    wanted = os.environ.get("ATLAS_DEVICE", "").strip()
    if wanted:
        dev = torch.device(wanted)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"ATLAS_DEVICE={wanted} but CUDA is not available on this machine")
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@functools.lru_cache(maxsize=None)
def cpu_bf16_flags() -> tuple[str, ...]:
    """Which of ``CPU_BF16_FLAGS`` this CPU reports (empty off Linux or without them)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return tuple(f for f in CPU_BF16_FLAGS if f in flags)


def bf16_fast(dev: torch.device | None = None) -> tuple[bool, str]:
    """Whether bf16 matrix products are fast on ``dev``, and the evidence in words."""
    dev = dev or get_device()
    if dev.type == "cuda":
        ok = torch.cuda.is_bf16_supported()
        return ok, "CUDA bf16 supported" if ok else "this GPU has no fast bf16"
    flags = cpu_bf16_flags()
    if flags:
        return True, "CPU has " + " and ".join(flags)
    return False, "CPU has no AMX or AVX-512 bf16"


def get_dtype(dev: torch.device | None = None) -> torch.dtype:
    """The dtype models are loaded and run in: ``ATLAS_DTYPE`` when set (``auto`` = detect)."""
    wanted = os.environ.get("ATLAS_DTYPE", "auto").strip().lower() or "auto"
    if wanted != "auto":
        if wanted not in DTYPES:
            raise RuntimeError(f"ATLAS_DTYPE={wanted!r}: use float32, bfloat16 or auto")
        return DTYPES[wanted]
    return torch.bfloat16 if bf16_fast(dev)[0] else torch.float32


def dtype_name(dtype: torch.dtype) -> str:
    return {torch.float32: "float32", torch.bfloat16: "bfloat16"}.get(dtype, str(dtype).removeprefix("torch."))


def describe_dtype() -> str:
    """One line for the UI: which dtype, and why."""
    name = dtype_name(get_dtype())
    if os.environ.get("ATLAS_DTYPE", "auto").strip().lower() not in ("", "auto"):
        return f"{name} (ATLAS_DTYPE)"
    return f"{name} (auto: {bf16_fast()[1]})"


def describe() -> str:
    """One line for the UI: which device, and why."""
    dev = get_device()
    src = "ATLAS_DEVICE" if os.environ.get("ATLAS_DEVICE") else "auto"
    if dev.type == "cuda":
        return f"{torch.cuda.get_device_name(dev)} ({dev}, {src})"
    return f"CPU, {torch.get_num_threads()} threads ({src})"
