"""Interventions: ablate a head or an MLP, and patch the residual stream from one prompt into another.

Both rerun the model functionally through the adapter from a stored hidden state: the edited layer,
then every later layer. Nothing is hooked or written on the shared model.

- Ablation (zero or mean): a head's output z (head, pos, d_head) is edited where a forward pre-hook
  on the output projection would act, so the layer's own norms see the edit; an MLP's write is
  replaced. "mean" uses the mean over the positions of the same input (no other dataset is used).
- Patching (Meng et al. 2022; Heimersheim & Nanda 2024, "How to use and interpret activation
  patching"): for each layer l and position p, the corrupted run's stream entering layer l is given
  the clean run's vector at p, and the rest of the model runs. Restoration is
  (m_patched - m_corrupted) / (m_clean - m_corrupted), m = logit(clean answer) - logit(corrupted
  answer) at the last position. All three runs go through the same functional path, so a patch that
  makes the stream identical to the clean run restores exactly 1 (and one that changes nothing, 0).

Shape names: layer, head, pos, d_head, d_model, vocab.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.lens.common import causal_adapter, decode, token_id
from core.runtime import limits, models
from core.runtime.errors import InputError

HOSTED_PATCH_TOKENS = 32
PARTS, HOWS = ("attn", "mlp"), ("zero", "mean")


def _top(probs: torch.Tensor, lm, k: int = 5) -> pd.DataFrame:
    p, i = probs.topk(k)
    return pd.DataFrame({"token": decode(lm, i.tolist()), "p": p.cpu().numpy()})


def _kl(p: torch.Tensor, q: torch.Tensor) -> float:
    """KL(p || q) in nats over the whole vocabulary."""
    return max(0.0, float((p * (p.clamp_min(1e-30).log() - q.clamp_min(1e-30).log())).sum()))


@dataclass(frozen=True)
class Ablation:
    layer: int
    head: int | None
    part: str
    how: str
    before: pd.DataFrame           # top-5 token, p of the unchanged model
    after: pd.DataFrame            # top-5 token, p with the ablation
    kl: float                      # KL(before || after), nats, whole vocabulary
    note: str


def _check(ad, layer: int, head: int | None, part: str, how: str) -> None:
    if part not in PARTS or how not in HOWS:
        raise InputError(f"part must be one of {PARTS} and how one of {HOWS}; got {part!r}, {how!r}.")
    if not 0 <= layer < ad.n_layers:
        raise InputError(f"Layer {layer} is out of range 0..{ad.n_layers - 1}.")
    if head is not None and (part != "attn" or not 0 <= head < ad.layout.n_heads):
        raise InputError(f"Head {head} is out of range 0..{ad.layout.n_heads - 1}"
                         + ("" if part == "attn" else " (a head belongs to the attention part)") + ".")


def _edits(head: int | None, part: str, how: str):
    """(edit_z, edit_mlp) for the adapter's block."""
    def replace(x, dims):
        return torch.zeros_like(x) if how == "zero" else x.mean(dim=dims, keepdim=True).expand_as(x)

    if part == "mlp":
        return None, lambda w: replace(w, 0)
    if head is None:
        return (lambda z: replace(z, 1)), None

    def one_head(z):
        z = z.clone()
        z[head] = replace(z[head], 0)
        return z
    return one_head, None


@torch.inference_mode()
def _ablated_probs(result: models.RunResult, layer: int, head: int | None, part: str, how: str) -> torch.Tensor:
    ad = result.adapter
    edit_z, edit_mlp = _edits(head, part, how)
    h = ad.block(result.hidden_states[layer], layer, edit_z=edit_z, edit_mlp=edit_mlp).out
    h = ad.run_from(h, layer + 1)
    return torch.softmax(ad.logits(h[-1:])[0].float(), -1)


@torch.inference_mode()
def _plain_probs(result: models.RunResult) -> torch.Tensor:
    ad = result.adapter
    return torch.softmax(ad.logits(ad.run_from(result.hidden_states[0], 0)[-1:])[0].float(), -1)


def ablate(name: str, text: str, layer: int, head: int | None = None, part: str = "attn",
           how: str = "zero") -> Ablation:
    """Knock out one head (or the whole attention part, or the MLP) at ``layer`` and compare the
    next-token distribution after the last position with the unchanged model's."""
    result = models.run(name, text)
    ad = causal_adapter(result)
    _check(ad, layer, head, part, how)
    before = _plain_probs(result)
    after = _ablated_probs(result, layer, head, part, how)
    what = f"head {head}" if head is not None else part
    note = (f"{how}-ablation of layer {layer} {what}"
            + (": replaced by its mean over the positions of this input" if how == "mean" else ": set to 0"))
    return Ablation(layer, head, part, how, _top(before, result.model), _top(after, result.model),
                    _kl(before, after), note)


def ablation_sweep(name: str, text: str, layer: int, how: str = "zero",
                   progress: Callable[[float, str], None] | None = None) -> pd.DataFrame:
    """Every head of one layer, and its MLP, ablated in turn: KL and the top token after each."""
    result = models.run(name, text)
    ad = causal_adapter(result)
    _check(ad, layer, None, "attn", how)
    before = _plain_probs(result)
    top = int(before.argmax())
    items = [("head", h) for h in range(ad.layout.n_heads)] + [("mlp", None)]
    rows = []
    for i, (kind, h) in enumerate(items):
        limits.checkpoint()                           # a hosted run past its time budget stops here
        after = _ablated_probs(result, layer, h, "attn" if kind == "head" else "mlp", how)
        rows.append({"component": f"head {h}" if kind == "head" else "MLP", "layer": layer, "head": h,
                     "kl": _kl(before, after), f"p({decode(result.model, [top])[0]})": float(after[top]),
                     "top after": decode(result.model, [int(after.argmax())])[0]})
        if progress:
            progress((i + 1) / len(items), f"{rows[-1]['component']} ({i + 1} of {len(items)})")
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Patching:
    grid: np.ndarray               # (layer, pos): restoration; row l = the stream entering layer l
    clean_tokens: list[str]
    corrupted_tokens: list[str]
    clean_answer: str
    corrupted_answer: str
    m_clean: float                 # logit(clean answer) - logit(corrupted answer), clean run
    m_corrupted: float             # the same, corrupted run

    def where(self) -> str:
        """A one-line summary of where the information moves."""
        l, p = np.unravel_index(int(np.nanargmax(self.grid)), self.grid.shape)
        last = self.grid[:, -1]
        late = int(np.argmax(last > 0.5)) if (last > 0.5).any() else None
        diff = [i for i, (a, b) in enumerate(zip(self.clean_tokens, self.corrupted_tokens)) if a != b]
        return (f"Patching position {p} “{self.clean_tokens[p]}” entering layer {l} restores "
                f"{self.grid[l, p]:.0%} of the gap. The prompts differ at position(s) {diff}; "
                + (f"from layer {late} on, patching the last position alone restores over half: by then the "
                   "information has moved to the last token." if late is not None else
                   "the last position alone never restores half."))


def _logit_gap(ad, h, a: int, b: int) -> float:
    logits = ad.logits(h[-1:])[0]
    return float(logits[a] - logits[b])


@torch.inference_mode()
def patch(name: str, clean: str, corrupted: str, target: str | int | None = None, part: str = "resid",
          progress: Callable[[float, str], None] | None = None) -> Patching:
    """Activation patching of the residual stream, one (layer, position) at a time (see above).
    ``target``: the clean answer token (default: the clean run's top-1)."""
    if part != "resid":
        raise InputError("Only the residual stream (part='resid') is patched here.")
    if not clean.strip() or not corrupted.strip():
        raise InputError("Both prompts are needed: a clean one and a corrupted one.")
    rc, rx = models.run(name, clean), models.run(name, corrupted)
    ad = causal_adapter(rc)
    if rc.n_tokens != rx.n_tokens:
        raise InputError(f"The prompts must have the same number of tokens to patch position by position: "
                         f"the clean one has {rc.n_tokens}, the corrupted one {rx.n_tokens}.")
    if limits.hosted() and rc.n_tokens > HOSTED_PATCH_TOKENS:
        raise InputError(f"The hosted demo patches prompts of up to {HOSTED_PATCH_TOKENS} tokens; these have "
                         f"{rc.n_tokens}.")
    hc, hx = rc.hidden_states, rx.hidden_states
    clean_final = ad.run_from(hc[0], 0)
    corr_final = ad.run_from(hx[0], 0)
    a = token_id(rc.model, target)
    a = int(ad.logits(clean_final[-1:])[0].argmax()) if a is None else a
    b = int(ad.logits(corr_final[-1:])[0].argmax())
    if a == b:
        raise InputError(f"Both prompts' answers are “{decode(rc.model, [a])[0]}”: there is no gap to restore. "
                         "Change the corrupted prompt, or name the clean answer as the target.")
    m_clean, m_corr = _logit_gap(ad, clean_final, a, b), _logit_gap(ad, corr_final, a, b)
    n, grid = rc.n_tokens, np.zeros((ad.n_layers, rc.n_tokens))
    for layer in range(ad.n_layers):
        limits.checkpoint()                           # a hosted run past its time budget stops here
        for p in range(n):
            if torch.equal(hx[layer][p], hc[layer][p]):
                continue      # the patch changes nothing (e.g. before the first differing token): exactly 0
            h = hx[layer].clone()
            h[p] = hc[layer][p]
            grid[layer, p] = (_logit_gap(ad, ad.run_from(h, layer), a, b) - m_corr) / (m_clean - m_corr)
        if progress:
            progress((layer + 1) / ad.n_layers, f"layer {layer + 1} of {ad.n_layers}")
    return Patching(grid, list(rc.tokens), list(rx.tokens), decode(rc.model, [a])[0], decode(rc.model, [b])[0],
                    m_clean, m_corr)
