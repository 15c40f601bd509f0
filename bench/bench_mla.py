"""Decode time per token and cache bytes: MHA, GQA, MLA naive and MLA weight-absorbed.

Random-weight attention stacks from core.efficiency.mla at DeepSeek-V2-Lite shapes (d_model 2048, 16 heads,
d_c 512, d_h^R 64, d_nope 128, d_v 128; 2 layers), fp32, batch 1. Cache bytes are the tensors
actually allocated (numel x element_size), checked against core.efficiency.kv_cache.cache_bytes.
Run: .venv/bin/python -m bench.bench_mla
"""
from __future__ import annotations

import pathlib

from bench.common import md_table, write_report
from core.efficiency import kv_cache
from core.efficiency import mla

PRESET = "DeepSeek-V2-Lite shapes"
PROMPTS = (512, 2048)
NEW_TOKENS = 16


def main() -> pathlib.Path:
    cfg = mla.PRESETS[PRESET]
    rows = []
    for prompt in PROMPTS:
        base = None
        for kind in mla.KINDS:
            r = mla.decode(kind, cfg, prompt_len=prompt, new_tokens=NEW_TOKENS)
            formula = kv_cache.cache_bytes(mla.kv_config(kind, cfg), r.seq_lens[-1], 1, r.bytes_per_element)
            base = base or r.ms_per_token
            rows.append({"prompt tokens": f"{prompt:,}", "cache": kind,
                         "decode ms/token (median)": f"{r.ms_per_token:.2f}",
                         "vs MHA": f"{r.ms_per_token / base:.2f}×",
                         "cache bytes measured": f"{r.cache_bytes[-1]:,}",
                         "formula bytes": f"{formula:,}", "equal": r.cache_bytes[-1] == formula})
            print(f"[bench_mla] {prompt} {kind}: {r.ms_per_token:.2f} ms/token", flush=True)
    body = (f"Shapes: {PRESET} ({cfg}). Prefill of the prompt, then {NEW_TOKENS} decode steps; the median "
            "step time over all layers is reported. Weights are random: these are timings of the "
            "attention arithmetic and cache traffic, not of a trained model.\n\n" + md_table(rows) + "\n")
    return write_report("mla", "MLA vs MHA/GQA: decode time and cache bytes", body)


if __name__ == "__main__":
    print(main())
