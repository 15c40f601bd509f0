"""The lenses on SmolLM2-135M, warm, each also as a multiple of one forward pass of the same input
(``core.runtime.models.run``) measured in the same run.

Targets (issue "Inside the model"): logit-lens grid for 64 tokens x 30 layers <= 300 ms;
contributions <= 300 ms; a full-layer ablation sweep <= 5 s; a patching heatmap for 16 tokens x 30
layers <= 20 s.

Run: .venv/bin/python -m bench.bench_lens
"""
from __future__ import annotations

from pathlib import Path

import torch

from bench.common import md_table, median_time, write_report
from core import lens
from core.attention import heads as attention
from core.runtime import models

SMOL = "smollm2-135m"


def rows() -> list[dict]:
    text64 = attention.corpus_text(SMOL, 64)
    clean = "When Mary and John went to the shops in town, John gave a drink to"      # 16 tokens,
    corrupt = "When Mary and John went to the shops in town, Mary gave a drink to"    # one apart (IOI)
    res64 = models.run(SMOL, text64)
    short = models.run(SMOL, "The capital of France is")
    out = []

    def row(what, fn, fwd_text, target_s, repeat=5):
        sec, _ = median_time(fn, repeat=repeat)
        fwd, _ = median_time(lambda: models.run(SMOL, fwd_text), repeat=repeat)
        out.append({"what": what, "median (s)": f"{sec:.3f}", "× forward pass": f"{sec / fwd:.1f}",
                    "forward (s)": f"{fwd:.3f}", "target": f"≤ {target_s:g} s",
                    "met": "yes" if sec <= target_s else "NO"})

    row(f"logit lens, {res64.n_tokens} tokens × 31 rows", lambda: lens.logit_lens(res64), text64, 0.3)
    normed = torch.cat([res64.adapter.final_norm(h) for h in res64.hidden_states[:-1]])    # (31 x 64, d_model)
    w_u = res64.model.model.get_output_embeddings().weight                                  # (vocab, d_model)
    gemm, _ = median_time(lambda: normed @ w_u.T, repeat=5)
    gemm16, _ = median_time(lambda: normed.bfloat16() @ w_u.bfloat16().T, repeat=5)
    out.append({"what": "floor of the logit lens: its unembedding GEMM alone, fp32", "median (s)": f"{gemm:.3f}",
                "× forward pass": "", "forward (s)": "", "target": "", "met": ""})
    out.append({"what": "the same GEMM in bf16", "median (s)": f"{gemm16:.3f}", "× forward pass": "",
                "forward (s)": "", "target": "", "met": ""})
    row(f"contributions, {res64.n_tokens} tokens, last position", lambda: lens.contributions(res64), text64, 0.3)
    row("ablation sweep, layer 10 (9 heads + MLP), 6 tokens",
        lambda: lens.ablation_sweep(SMOL, short.text, 10), short.text, 5.0, repeat=3)
    rc, rx = models.run(SMOL, clean), models.run(SMOL, corrupt)
    if rc.n_tokens == rx.n_tokens:
        row(f"patching heatmap, {rc.n_tokens} tokens × 30 layers", lambda: lens.patch(SMOL, clean, corrupt),
            clean, 20.0, repeat=1)
    return out


def main() -> Path:
    body = f"""
SmolLM2-135M (float32), warm caches, medians. The forward pass is `core.runtime.models.run` on the
same input (hidden states kept, next-token statistics), timed in the same run.

{md_table(rows())}

The logit lens is bounded by its unembedding: 31 rows × 64 positions × 49,152 tokens × 576 = 112 GFLOP
in fp32. Its floor (that GEMM alone) is measured in the same run; the bf16 figure shows what a bf16
read-out would allow on this CPU (the bf16-vs-fp32 question is the speed issue's).
"""
    return write_report("lens", "Lenses: logit lens, attribution, ablation sweep, patching", body)


if __name__ == "__main__":
    print(main().read_text())
