"""Prepare the bundled models once: ``python -m core.runtime.prepare`` (run by ``make run``/``make test``).

Converts the SmolLM2 and Gemma 3 GGUFs to safetensors in the cache, places the tiktoken vocabularies where
tiktoken looks, and checks that every bundled model and tokenizer loads offline. Idempotent.
"""
from __future__ import annotations

import sys
import time

from core.runtime import models
from core.runtime import paths
from core.text import tokenizers


def main() -> int:
    steps = [
        ("SmolLM2-135M: GGUF -> safetensors (first time ~30 s)", models.smollm_dir),
        ("MiniLM-L6 files", models.minilm_dir),
        ("Gemma 3 270M: assemble the GGUF, then -> safetensors (first time ~60 s)", models.gemma_dir),
        ("tiktoken vocabularies", tokenizers.install_tiktoken_files),
        *[(f"tokenizer {n}", lambda n=n: tokenizers.tokenize(n, "Hello, world!")) for n in tokenizers.available()],
    ]
    print(f"[prepare] cache: {paths.cache_dir()}")
    for label, fn in steps:
        t = time.perf_counter()
        fn()
        print(f"[prepare] {label}: ok ({time.perf_counter() - t:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
