"""Speed against the hardware's limit (issue #16), every ratio measured in this one run.

1. GEMM peak: a 2048 x 2048 matrix product in float32 and bfloat16 on the engine device.
2. Forward passes of SmolLM2-135M and Gemma 3 270M at 512 and 4,096 tokens of the Lee corpus,
   through ``core.runtime.models.run`` (what every page calls: SDPA, hidden states kept, the
   unembedding at the last position only), in the dtype the engine picked
   (``core.runtime.device.get_dtype``), as % of the faster GEMM peak. The useful FLOPs are counted
   from the weights and the masks: 2 x tokens x (every linear layer's in x out), plus
   2 x 2 x d_head x heads x (key positions each query may see) for scores and values.
3. bf16 against float32 on the same input: maximum absolute difference of the attention weights
   (every layer and head) and of the next-token probabilities.
4. The all-heads overview (``core.attention.stats.overview``) at 4,096 tokens against that forward.
5. BPE replay (``core.text.bpe.train``, every step recorded) against Hugging Face `tokenizers`
   training the same corpus with the same merge count (whitespace split, no end marker).

First paint against the framework's floor is in ``bench/bench_app.py`` (same report file).
Run: .venv/bin/python -m bench.bench_speed [engine] [bpe] [paint]  (named parts: only those sections, rerun)
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import torch

from bench.common import load_average, md_table, median_time, write_report

MODELS = ("smollm2-135m", "gemma3-270m")
LENGTHS = (512, 4096)
SAMPLE = "The capital of France is Paris, and the capital of Italy is Rome. The capital of Spain is"


def gemm_rate(dtype: torch.dtype, n: int, repeat: int = 5) -> float:
    """GFLOP/s of an n x n x n product on the engine device (median of ``repeat``)."""
    from core.runtime.device import get_device
    dev = get_device()
    a, b = (torch.randn(n, n, device=dev).to(dtype) for _ in range(2))

    def once():
        a @ b
        if dev.type == "cuda":
            torch.cuda.synchronize()
    sec, _ = median_time(once, repeat=repeat, warmup=1)
    return 2 * n ** 3 / sec / 1e9


def gemm_peak(dtype: torch.dtype) -> tuple[float, int]:
    """GFLOP/s of the largest square product that takes under ~2 s (4,096 on a GPU, 2,048 on a
    CPU with native support, 1,024 where the dtype is emulated), and that size."""
    from core.runtime.device import get_device
    if get_device().type == "cuda":
        n = 4096
    else:
        n = 2048 if gemm_rate(dtype, 512, repeat=1) > 10 else 1024
    return gemm_rate(dtype, n), n


def _synced(fn, *args):
    """Call ``fn`` and wait for the GPU, so a timing covers the work and not only its launch."""
    out = fn(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out


def forward_flops(lm, n: int) -> float:
    """Useful FLOPs of one forward pass over ``n`` tokens plus the last position's unembedding."""
    from core.runtime import models
    base = models.base_model(lm)
    linear = sum(m.in_features * m.out_features for m in base.modules() if isinstance(m, torch.nn.Linear))
    ad = lm.adapter
    lay = ad.layout
    attn = 0
    for layer in range(ad.n_layers):
        w = ad.window(layer)
        keys = sum(min(q + 1, w) if w else q + 1 for q in range(n)) if lm.spec.kind == "causal" else n * n
        attn += 2 * 2 * lay.d_head * lay.n_heads * keys
    head = lm.model.get_output_embeddings()
    return 2 * n * linear + attn + 2 * head.in_features * head.out_features


def forward_rows(peak: float, repeat: int = 3) -> tuple[list[dict], dict]:
    from core.attention import heads as attention
    from core.attention import stats
    from core.runtime import models
    from core.runtime.device import dtype_name
    rows, seconds = [], {}
    for name in MODELS:
        lm = models.load(name)
        models.run(name, attention.corpus_text(name, min(LENGTHS)))    # warm caches
        for n in LENGTHS:
            text = attention.corpus_text(name, n)
            last = []
            sec, _ = median_time(lambda: last.append(_synced(models.run, name, text)), repeat=repeat, warmup=0)
            res = last[-1]
            flops = forward_flops(lm, res.n_tokens)
            row = {"model": name, "dtype": dtype_name(lm.dtype), "attention": lm.config._attn_implementation,
                   "tokens": res.n_tokens, "forward (s)": f"{sec:.2f}", "GFLOP": f"{flops / 1e9:.0f}",
                   "GFLOP/s": f"{flops / sec / 1e9:.0f}", "% of faster peak": f"{100 * flops / sec / 1e9 / peak:.0f}%"}
            if n == max(LENGTHS):
                ov, _ = median_time(lambda: _synced(stats.overview, res), repeat=repeat, warmup=0)
                row["all-heads overview (s)"] = f"{ov:.2f}"
                row["overview / forward"] = f"{ov / sec:.2f}"
            else:
                row["all-heads overview (s)"] = row["overview / forward"] = ""
            rows.append(row)
            seconds[(name, n)] = sec
    return rows, seconds


def dtype_rows() -> list[dict]:
    """bf16 against float32 on the same short input, every model the app runs by default."""
    from core.attention.heads import layer_weights
    from core.runtime import models
    rows = []
    for name in (*MODELS, "minilm-l6"):
        a, b = models.run(name, SAMPLE, torch.float32), models.run(name, SAMPLE, torch.bfloat16)
        att = max((layer_weights(a, l) - layer_weights(b, l)).abs().max().item() for l in range(a.n_layers))
        row = {"model": name, "tokens": a.n_tokens, "attention weights, max |Δ|": f"{att:.4f}",
               "next-token p, max |Δ|": "", "top-10 p at every position, max |Δ|": "", "same top-1": ""}
        if a.causal:
            pa, pb = a.next_logits.softmax(-1), b.next_logits.softmax(-1)
            row["next-token p, max |Δ|"] = f"{(pa - pb).abs().max().item():.4f}"
            row["top-10 p at every position, max |Δ|"] = f"{(a.topk_probs - b.topk_probs).abs().max().item():.4f}"
            row["same top-1"] = f"{(a.topk_ids[:, 0] == b.topk_ids[:, 0]).float().mean().item():.0%} of positions"
        rows.append(row)
    return rows


def _alternated(fns: list, repeat: int) -> list[tuple[float, float]]:
    """Median wall and median process CPU seconds of each of ``fns``, called in turn ``repeat``
    times after one warm-up each, so a change of load falls on all of them alike."""
    for fn in fns:
        fn()
    wall, cpu = [[] for _ in fns], [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            w, c = time.perf_counter(), time.process_time()
            fn()
            wall[i].append(time.perf_counter() - w)
            cpu[i].append(time.process_time() - c)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(wall, cpu)]


def bpe_rows(repeat: int = 7) -> list[dict]:
    """Ours and `tokenizers` alternated run by run, so both see the same load."""
    from core.text import bpe, word2vec
    corpus = word2vec.bundled_text()
    rows = []
    for merges in (300, 2000):
        cfg = bpe.BPEConfig(n_merges=merges, end_of_word=None)
        (ours, ours_cpu), (lib, lib_cpu) = _alternated(
            [lambda: bpe.train(corpus, cfg), lambda: bpe.train_whitespace(corpus, merges)], repeat)
        rows.append({"corpus": f"lee_background ({len(corpus):,} chars)", "merges": merges,
                     "Atlas replay, every step recorded (s)": f"{ours:.3f}",
                     "`tokenizers` BpeTrainer (s)": f"{lib:.3f}", "ratio (goal ≤ 2)": f"{ours / lib:.2f}×",
                     "CPU-s Atlas / `tokenizers`": f"{ours_cpu:.3f} / {lib_cpu:.3f} ({ours_cpu / lib_cpu:.2f}×)"})
    return rows


def bpe_section(repeat: int = 7) -> str:
    start = load_average()
    rows = bpe_rows(repeat)
    return f"""
## BPE replay against `tokenizers` (median of {repeat})
Same corpus and merge count, whitespace split and no end-of-word marker on both sides. The replay
records every step (pair, count, new symbol, vocabulary and corpus size), the two alternated run by
run; its counts are updated
at the positions of each merge (Sennrich's `update_pair_statistics`), and `tests/test_bpe.py` checks
every step against a full recount. `tokenizers` may use both cores; the last column is process CPU
time (all threads). {_when(start)}

{md_table(rows)}
"""


def _when(start_load: str) -> str:
    """When and under what load a section was measured (a section can be rerun on its own)."""
    from datetime import datetime, timezone
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"Measured {stamp} on {cpu_name()}: {start_load} at the start, {load_average()} at the end."


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return f"{os.cpu_count()} cores"


def engine_section(repeat: int = 3) -> tuple[str, dict]:
    """The GEMM peak, the forward rows with the overview against them, and bf16 against float32."""
    from core.runtime import device
    start_load = load_average()
    (fp32, n32), (bf16, n16) = gemm_peak(torch.float32), gemm_peak(torch.bfloat16)
    peak = max(fp32, bf16)
    t0 = time.perf_counter()
    fwd, _ = forward_rows(peak, repeat)
    fwd_min = (time.perf_counter() - t0) / 60
    diffs = dtype_rows()
    body = f"""
## Engine
- {_when(start_load)} Other sessions share this machine's cores.
- Device: {device.describe()}; dtype {device.describe_dtype()}.
- GEMM peak, square products, median of 5: **{fp32:.0f} GFLOP/s in float32** (n = {n32:,}),
  **{bf16:.1f} GFLOP/s in bfloat16** (n = {n16:,}): bf16 runs at {bf16 / fp32:.2f}× float32 here.
  The faster peak is {peak:.0f} GFLOP/s.

## Forward passes as % of the faster peak (median of {repeat}; these rows took {fwd_min:.1f} min)
`core.runtime.models.run` on the Lee corpus: SDPA (Gemma 3's local layers in query blocks of the
window, `core.runtime.attention_kernels`), every layer's hidden state kept, the unembedding at the
last position only. Useful FLOPs counted from the weights and each layer's mask (causal; Gemma's
local layers see 512 keys). The all-heads overview (`core.attention.stats.overview`: 4 statistics +
thumbnails of every (layer, head), 512 sampled query rows) is timed on the same 4,096-token result;
goal overview / forward ≤ 1.

{md_table(fwd)}

## bfloat16 against float32, same input ({SAMPLE!r})
Maximum absolute differences over every layer, head and position; `tests/test_dtype.py` pins them
(attention ≤ 0.06, next-token p ≤ 0.02, top-10 p ≤ 0.05).

{md_table(diffs)}
"""
    return body, {"fp32": fp32, "bf16": bf16}


def run_all() -> tuple[str, dict]:
    """Every CPU/GPU engine row of the report, and the figures others need."""
    body, figures = engine_section()
    return body + bpe_section(), figures


def paint_section() -> str:
    from bench import bench_app
    start = load_average()
    return bench_app.first_paint_section(bench_app.first_paint()).rstrip() + f"\n\n{_when(start)}\n"


# part: (its first heading, what measures it, the heading that follows its last section)
PARTS = {"engine": ("## Engine", lambda: engine_section()[0], "## BPE replay"),
         "bpe": ("## BPE replay", bpe_section, None), "paint": ("## First paint", paint_section, None)}


def _replace_section(report: str, heading: str, section: str, until: str | None = None) -> str:
    """``report`` with the ``## ...`` section starting with ``heading`` (and those after it up to
    the heading ``until``) replaced by ``section``."""
    start = report.index("\n" + heading) + 1
    nxt = report.find("\n" + until if until else "\n## ", start + 1)
    return report[:start] + section.strip() + "\n" + ("\n" + report[nxt + 1:] if nxt >= 0 else "")


def main(parts: list[str] | None = None) -> Path:
    """The whole report, or (``parts`` named, e.g. ``bpe paint``) only those sections measured
    again and replaced in the existing report, each stating when and under what load."""
    from bench.common import RESULTS
    if parts:
        path = RESULTS / "speed.md"
        for part in parts:
            heading, measure, until = PARTS[part]
            section = measure()                     # read the report after measuring: others may edit it meanwhile
            path.write_text(_replace_section(path.read_text(), heading, section, until))
        return path
    body, _ = run_all()
    return write_report("speed", "Speed against the hardware's limit (issue #16)", body + "\n" + paint_section())


if __name__ == "__main__":
    import sys
    print(main(sys.argv[1:]).read_text())
