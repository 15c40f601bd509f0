"""Live tiny scaling sweep: train a few character-level causal transformers of increasing width
on the same bundled corpus for the same number of tokens, then fit their final validation loss
against N with the same fitter as user runs (core.scaling.fit.fit_power_law).

This is seed 001's "train a small model, fit the curve, predict" at toy scale. The models are
tiny (thousands to hundreds of thousands of parameters) and trained here, so their exponent is
not comparable with Kaplan's or Chinchilla's; the point is the method. Architecture: a
pre-norm GPT block (nanoGPT-style: causal self-attention + 4x MLP, learned positions).
Corpus: gensim's bundled ``lee_background.cor`` (299 news articles, ≈360k characters).
Shapes: (batch, q_pos, d_model); attention (batch, head, q_pos, d_head).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from core.runtime import limits
from core.runtime.device import get_device
from core.runtime.paths import package_dir
from core.scaling.fit import PowerLawFit, fit_power_law


@dataclass(frozen=True)
class SweepConfig:
    widths: tuple[int, ...]      # d_model of each model, increasing
    n_layer: int
    n_head: int
    context: int                 # characters per training sequence
    batch: int
    steps: int                   # identical for every model: same tokens seen (D fixed)
    lr: float
    eval_batches: int
    seed: int = 0


PRESETS: dict[str, SweepConfig] = {
    "full": SweepConfig((16, 24, 32, 48, 64), n_layer=2, n_head=2, context=48, batch=16, steps=300,
                        lr=3e-3, eval_batches=20),
    "hosted": SweepConfig((16, 32, 48), n_layer=2, n_head=2, context=48, batch=16, steps=150,
                          lr=3e-3, eval_batches=10),
    "test": SweepConfig((8, 16), n_layer=1, n_head=2, context=32, batch=8, steps=5, lr=3e-3, eval_batches=2),
}


def corpus_path():
    return package_dir("gensim") / "test" / "test_data" / "lee_background.cor"


def load_corpus() -> tuple[str, list[str]]:
    """The corpus text and its sorted character vocabulary."""
    text = corpus_path().read_text(encoding="utf-8", errors="replace")
    return text, sorted(set(text))


class Block(nn.Module):
    def __init__(self, d: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape                                   # (batch, q_pos, d_model)
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (t.view(B, T, self.n_head, d // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)   # (batch, head, q_pos, d_head)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, d))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, d: int, n_layer: int, n_head: int, context: int):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, n_head) for _ in range(n_layer))
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x))                        # (batch, q_pos, vocab)

    def non_embedding_params(self) -> int:
        """Kaplan's N: everything except token/position embeddings and the output layer."""
        skip = {id(p) for m in (self.tok, self.pos, self.head) for p in m.parameters()}
        return sum(p.numel() for p in self.parameters() if id(p) not in skip)


@dataclass(frozen=True)
class SweepResult:
    config: SweepConfig
    runs: pd.DataFrame          # one row per model
    curves: pd.DataFrame        # step, model, train loss
    fit: PowerLawFit | None     # val loss against non-embedding N
    device: str
    seconds: float


def _batch(data: torch.Tensor, cfg: SweepConfig, gen: torch.Generator, device) -> tuple:
    ix = torch.randint(0, len(data) - cfg.context - 1, (cfg.batch,), generator=gen)
    x = torch.stack([data[i:i + cfg.context] for i in ix])
    y = torch.stack([data[i + 1:i + 1 + cfg.context] for i in ix])
    return x.to(device), y.to(device)


def run_sweep(cfg: SweepConfig, progress: Callable[[float, str], None] | None = None) -> SweepResult:
    """Train one model per width, same data and steps; report val loss (nats/char) and fit.

    On CPU, torch runs single-threaded for the sweep (these matrices are too small for threads
    to pay off; measured ~4x faster on a shared 2-core machine) and is restored afterwards."""
    threads = torch.get_num_threads()
    if get_device().type == "cpu":
        torch.set_num_threads(1)
    try:
        return _run_sweep(cfg, progress)
    finally:
        torch.set_num_threads(threads)


def _run_sweep(cfg: SweepConfig, progress) -> SweepResult:
    t_all = time.perf_counter()
    device = get_device()
    text, vocab = load_corpus()
    stoi = {c: i for i, c in enumerate(vocab)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    total = len(cfg.widths) * cfg.steps
    rows, curves = [], []
    for m_i, d in enumerate(cfg.widths):
        torch.manual_seed(cfg.seed + m_i)
        gen = torch.Generator().manual_seed(cfg.seed)          # same batches for every model
        model = TinyGPT(len(vocab), d, cfg.n_layer, cfg.n_head, cfg.context).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.1)
        t0 = time.perf_counter()
        model.train()
        for step in range(cfg.steps):
            limits.checkpoint()                       # a hosted run past its time budget stops here
            x, y = _batch(train, cfg, gen, device)
            loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if step % max(1, cfg.steps // 25) == 0 or step == cfg.steps - 1:
                curves.append({"model": f"d={d}", "step": step, "train loss": float(loss.detach())})
            if progress and (step % 10 == 0 or step == cfg.steps - 1):
                progress((m_i * cfg.steps + step + 1) / total, f"model {m_i + 1}/{len(cfg.widths)} "
                         f"(d_model={d}), step {step + 1}/{cfg.steps}")
        model.eval()
        vgen = torch.Generator().manual_seed(cfg.seed + 1)
        with torch.no_grad():
            vl = [float(F.cross_entropy(model(x).flatten(0, 1), y.flatten()))
                  for x, y in (_batch(val, cfg, vgen, device) for _ in range(cfg.eval_batches))]
        rows.append({"model": f"d={d}", "d_model": d, "n_layer": cfg.n_layer,
                     "N (non-embedding)": model.non_embedding_params(),
                     "N (total)": sum(p.numel() for p in model.parameters()),
                     "tokens seen": cfg.steps * cfg.batch * cfg.context,
                     "val loss": float(np.mean(vl)), "seconds": time.perf_counter() - t0})
    runs = pd.DataFrame(rows)
    fit = fit_power_law(runs["N (non-embedding)"], runs["val loss"]) if len(runs) >= 3 else None
    return SweepResult(cfg, runs, pd.DataFrame(curves), fit, str(device), time.perf_counter() - t_all)
