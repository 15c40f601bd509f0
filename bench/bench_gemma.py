"""Gemma 3 270M on this machine: load, forward passes, head switches, and memory with every
bundled model loaded. Rows shared with bench_attention and bench_app.

- first load: assemble + dequantise the GGUF into a fresh cache (once per machine);
- load from the cache in a fresh process (transformers imported before the clock starts);
- forward at 512 and 4,096 tokens of the Lee corpus: ``core.runtime.models.run`` (hidden states
  kept, next-token statistics chunked) against the framework's floor, a bare HF forward of the
  same ids with no outputs kept, measured in the same run: the ratio is what Atlas adds;
- head switch at 4,096 tokens (recompute one head through the adapter, build the figures the page
  sends), a local and a global layer;
- RSS of one process after a forward pass through every bundled model (SmolLM2, MiniLM, Gemma 3,
  tiny CLIP): safetensors are memory-mapped, so a weight counts once it has been used.

Run: .venv/bin/python -m bench.bench_gemma
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from bench.common import md_table, median_time, write_report

ROOT = Path(__file__).resolve().parent.parent
GEMMA = "gemma3-270m"
TIMER = ("import time,core.runtime.models as m,transformers;"
         "from transformers import AutoModelForCausalLM, AutoModel, AutoTokenizer, AutoConfig;"
         "t=time.perf_counter();{call};print(time.perf_counter()-t)")
def _subprocess_last(code: str, env: dict | None = None) -> float:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **(env or {})},
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def load_rows(first: bool = True) -> list[dict]:
    rows = []
    if first:
        fresh = tempfile.mkdtemp(prefix="atlas-bench-cache-")
        rows.append({"what": "gemma3-270m: GGUF assemble + dequantise (first ever)",
                     "seconds": f"{_subprocess_last(TIMER.format(call='m.gemma_dir()'), {'ATLAS_CACHE_DIR': fresh}):.1f}"})
    samples = [_subprocess_last(TIMER.format(call=f"m.load('{GEMMA}')")) for _ in range(3)]
    rows.append({"what": "gemma3-270m: first load in a process (from cache)", "seconds": f"{statistics.median(samples):.2f}"})
    return rows


def _touch_every_model() -> int:
    """In a fresh process: one forward pass through every bundled model, then this process's RSS."""
    import psutil
    from PIL import Image

    from core.runtime import models
    from core.vision import clip
    for name in models.BUNDLED:
        models.run(name, "Hello world, this is a test.")
    clip.similarity([Image.new("RGB", (64, 64), "red")], ["a red square"])
    return psutil.Process().memory_info().rss


def rss_all_models() -> int:
    return int(_subprocess_last("from bench.bench_gemma import _touch_every_model as f; print(f())"))


def forward_rows(lengths=(512, 4096), repeat: int = 3) -> list[dict]:
    from core.attention import heads as attention
    from core.runtime import models
    lm = models.load(GEMMA)
    rows = []
    for n in lengths:
        text = attention.corpus_text(GEMMA, n)
        ids = torch.tensor([models.encode(lm, text)["ids"]], device=lm.device)

        def bare():
            with torch.inference_mode():
                lm.model(input_ids=ids, use_cache=False, logits_to_keep=1)
        atlas, _ = median_time(lambda: models.run(GEMMA, text), repeat=repeat, warmup=0)
        floor, _ = median_time(bare, repeat=repeat, warmup=0)
        rows.append({"tokens": ids.shape[1], "Atlas run() (s)": f"{atlas:.2f}", "bare HF forward (s)": f"{floor:.2f}",
                     "ratio": f"{atlas / floor:.2f}×"})
    return rows


def head_switch_rows(n: int = 4096, query: int = 2000) -> list[dict]:
    from bench.bench_attention import head_view
    from core.attention import heads as attention
    from core.runtime import models
    res = models.run(GEMMA, attention.corpus_text(GEMMA, n))
    rows = []
    for layer, head in ((0, 0), (5, 1), (11, 2), (16, 3)):
        sent = head_view(res, layer, head, query)
        sec, _ = median_time(lambda: head_view(res, layer, head, query), repeat=3, warmup=0)
        rows.append({"layer, head": f"{layer}, {head} ({attention.layer_kind(res, layer)})",
                     "switch time (s)": f"{sec:.3f}", "bytes sent": f"{sent:,}"})
    return rows


def main() -> Path:
    loads = load_rows()
    fwd = forward_rows()
    switch = head_switch_rows()
    rss = rss_all_models()
    body = f"""
Model: Gemma 3 270M, float32 (268M parameters, 1.07 GB of weights), CPU.

## Load
{md_table(loads)}

## Forward pass (Lee corpus), median of 3
The bare HF forward keeps no hidden states and computes logits for the last position only: the
framework's floor for the same ids, measured in the same run.

{md_table(fwd)}

## Head switch at 4,096 tokens (recompute one head, build the three figures the page sends)
{md_table(switch)}

## Memory
RSS of one process with every bundled model loaded (SmolLM2-135M, MiniLM-L6, Gemma 3 270M, tiny
CLIP): **{rss / 2**30:.2f} GiB** (budget 3.5 GB).
"""
    return write_report("gemma", "Gemma 3 270M: load, forward, head switch, memory", body)


if __name__ == "__main__":
    print(main().read_text())
