"""Next-token prediction: teacher forcing, sampling controls, and a step-by-step generate loop.

Sampling follows the order of Hugging Face's logits processors (and Holtzman et al. 2020,
"The curious case of neural text degeneration", for top-p): divide the logits by the temperature,
keep the top-k, then keep the smallest set of most likely tokens whose probability reaches top-p,
renormalise and draw. Temperature 0 means greedy decoding (argmax), as in most serving APIs.

The generate loop is seed 000's ``model.generate`` unrolled: each step feeds one new token and the
model's own KV cache (``past_key_values``), so every step can show its distribution, the token drawn
and the cache's size, measured from the cache tensors and checked against
tokens x layers x KV heads x head dim x 2 (K and V) x bytes.

Shape names: q_pos (positions), vocab.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.runtime import limits
from core.runtime import models
from core.runtime.errors import InputError
from core.text.token_labels import decode_one

TOP_N = 20


@dataclass(frozen=True)
class SamplingConfig:
    temperature: float = 1.0         # 0 = greedy
    top_k: int | None = None         # None or 0 = off
    top_p: float | None = None       # None or 1.0 = off; must lie in (0, 1]
    seed: int = 0
    max_new_tokens: int = 12


PRESETS = {
    "greedy": SamplingConfig(temperature=0.0),
    "balanced": SamplingConfig(temperature=0.7, top_p=0.9),
    "creative": SamplingConfig(temperature=1.2, top_k=50),
    "pure sampling": SamplingConfig(temperature=1.0),
}
MAX_NEW_TOKENS = 64


def validate(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """InputError for settings a sampler cannot honour, saying what the valid range is."""
    if temperature is None or not math.isfinite(temperature) or temperature < 0:
        raise InputError(f"Temperature must be 0 (greedy) or positive; got {temperature}.")
    if top_k is not None and top_k < 0:
        raise InputError(f"top-k must be 0 (off) or a positive number of tokens; got {top_k}.")
    if top_p is not None and not (0 < top_p <= 1):
        raise InputError(f"top-p must lie in (0, 1]: it is the probability mass to keep, and 0 would "
                         f"keep no token. Got {top_p}; use 1 to switch it off.")


@dataclass(frozen=True)
class Distribution:
    """One next-token distribution before and after the sampling controls."""
    ids: np.ndarray            # (TOP_N,) the most likely token ids, most likely first
    tokens: list[str]
    raw: np.ndarray            # (TOP_N,) softmax(logits) of those ids, temperature 1
    processed: np.ndarray      # (TOP_N,) after temperature, top-k, top-p and renormalising
    cumulative: np.ndarray     # (TOP_N,) cumulative probability top-p cuts (after temperature, top-k)
    kept: int                  # tokens left with non-zero probability
    greedy: bool
    full: torch.Tensor         # (vocab,) processed probabilities, for drawing


def process(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
            top_p: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(vocab,) logits -> (probabilities top-p cuts: tempered and top-k filtered, final probabilities)."""
    validate(temperature, top_k, top_p)
    logits = logits.float()
    if temperature == 0:                                   # greedy: all mass on the argmax
        onehot = torch.zeros_like(logits)
        onehot[logits.argmax()] = 1.0
        return onehot, onehot
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_k:
        kth = probs.topk(min(top_k, probs.numel())).values[-1]
        probs = torch.where(probs >= kth, probs, torch.zeros_like(probs))
        probs = probs / probs.sum()
    before_p = probs
    if top_p is not None and top_p < 1:
        p_sorted, order = probs.sort(descending=True)
        before = p_sorted.cumsum(0) - p_sorted             # mass of strictly more likely tokens
        keep_sorted = before < top_p                       # the token that crosses top_p is kept
        keep = torch.zeros_like(keep_sorted).scatter(0, order, keep_sorted)
        probs = torch.where(keep, probs, torch.zeros_like(probs))
    return before_p, probs / probs.sum()


def distribution(lm: models.LoadedModel, logits: torch.Tensor, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None) -> Distribution:
    before_p, final = process(logits, temperature, top_k, top_p)
    raw = torch.softmax(logits.float(), dim=-1)
    order = raw.topk(TOP_N).indices                        # temperature and cuts keep this order
    return Distribution(order.cpu().numpy(), [decode_one(lm.tokenizer, i) for i in order.tolist()],
                        raw[order].cpu().numpy(), final[order].cpu().numpy(),
                        before_p[order].cumsum(0).cpu().numpy(),
                        int((final > 0).sum()), temperature == 0, final)


def next_token_distribution(name: str, text: str, temperature: float = 1.0, top_k: int | None = None,
                            top_p: float | None = None) -> Distribution:
    """The distribution of the token after ``text`` under ``name``, with the sampling controls."""
    validate(temperature, top_k, top_p)
    lm = _causal(name)
    return distribution(lm, models.run(name, text).next_logits, temperature, top_k, top_p)


def _causal(name: str) -> models.LoadedModel:
    lm = models.load(name)
    if lm.spec.kind != "causal":
        raise InputError(f"{name} is a bidirectional encoder: it sees every token at once and has no "
                         "next-token head. Pick a causal model such as SmolLM2.")
    return lm


# --------------------------------------------------------------------------- teacher forcing

def teacher_forcing(result: models.RunResult, top: int = 5) -> pd.DataFrame:
    """One row per position t: the actual next token, p(x_{t+1} | x_<=t), loss, top predictions."""
    if not result.causal:
        raise InputError("Teacher forcing needs a causal model: an encoder sees the answer.")
    tok = result.model.tokenizer
    lp = result.token_logprobs.float().cpu()
    rows = []
    for t in range(result.n_tokens - 1):
        ids, ps = result.topk_ids[t, :top].tolist(), result.topk_probs[t, :top].tolist()
        rows.append({"position": t, "context ends with": result.tokens[t],
                     "actual next": result.tokens[t + 1], "p(actual)": math.exp(lp[t]),
                     "loss (nats)": -float(lp[t]), "in top 10": result.ids[t + 1] in result.topk_ids[t].tolist(),
                     "top predictions": " | ".join(f"{tok.decode([i])!r} {p:.2f}" for i, p in zip(ids, ps))})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- generate loop

@dataclass(frozen=True)
class Step:
    step: int
    context_tokens: int          # tokens the model has seen (= cached K/V positions after this step)
    dist: Distribution
    drawn_id: int
    drawn: str
    drawn_p: float               # processed probability of the drawn token
    cache_bytes: int             # measured: bytes of every K and V tensor in past_key_values
    cache_bytes_formula: int     # sum over layers of cached positions x kv_heads x d_head x 2 x bytes


def cache_nbytes(cache) -> int:
    """Bytes held by a transformers cache (DynamicCache.layers[i].keys/values)."""
    total = 0
    for layer in getattr(cache, "layers", []):
        for t in (getattr(layer, "keys", None), getattr(layer, "values", None)):
            if isinstance(t, torch.Tensor):
                total += t.nelement() * t.element_size()
    return total


@torch.inference_mode()
def generate_steps(name: str, prompt: str, config: SamplingConfig = PRESETS["balanced"]) -> list[Step]:
    """Generate ``config.max_new_tokens`` tokens one at a time, reproducibly for a given seed."""
    validate(config.temperature, config.top_k, config.top_p)
    if not 1 <= config.max_new_tokens <= MAX_NEW_TOKENS:
        raise InputError(f"Generate between 1 and {MAX_NEW_TOKENS} tokens; got {config.max_new_tokens}.")
    lm = _causal(name)
    ids = models.encode(lm, prompt)["ids"]
    limits.check_tokens(len(ids) + config.max_new_tokens)
    gen = torch.Generator().manual_seed(int(config.seed))   # CPU generator: same draws on any device
    n_bytes = next(lm.model.parameters()).element_size()
    formula = lm.adapter.kv_cache_bytes if lm.supported else (lambda n, b: n * models.cache_bytes_per_token(name, b))
    inp, cache, steps = torch.tensor([ids], device=lm.device), None, []
    for s in range(config.max_new_tokens):
        out = lm.model(input_ids=inp, past_key_values=cache, use_cache=True)
        cache = out.past_key_values                         # a fresh cache per call: the model is untouched
        dist = distribution(lm, out.logits[0, -1], config.temperature, config.top_k, config.top_p)
        probs = dist.full.cpu()
        nxt = int(probs.argmax()) if dist.greedy else int(torch.multinomial(probs, 1, generator=gen))
        n_ctx = len(ids) + s + 1
        steps.append(Step(s, n_ctx - 1, dist, nxt, decode_one(lm.tokenizer, nxt), float(probs[nxt]),
                          cache_nbytes(cache), formula(n_ctx - 1, n_bytes)))
        if nxt == lm.tokenizer.eos_token_id:
            break
        inp = torch.tensor([[nxt]], device=lm.device)
    return steps


def steps_table(steps: list[Step]) -> pd.DataFrame:
    return pd.DataFrame([{"step": s.step, "drawn": s.drawn, "p(drawn)": s.drawn_p, "tokens kept": s.dist.kept,
                          "cached positions": s.context_tokens, "KV cache bytes (measured)": s.cache_bytes,
                          "KV cache bytes (formula)": s.cache_bytes_formula} for s in steps])
