"""Device choice for the engine: CUDA when present, else CPU; ``ATLAS_DEVICE`` overrides."""
from __future__ import annotations

import os

import torch


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


def describe() -> str:
    """One line for the UI: which device, and why."""
    dev = get_device()
    src = "ATLAS_DEVICE" if os.environ.get("ATLAS_DEVICE") else "auto"
    if dev.type == "cuda":
        return f"{torch.cuda.get_device_name(dev)} ({dev}, {src})"
    return f"CPU, {torch.get_num_threads()} threads ({src})"
