"""The feed-forward layer's neurons (Geva et al. 2021, "Transformer feed-forward layers are key-value
memories"): in a gated MLP (SwiGLU in SmolLM2, Shazeer 2020; GeGLU in Gemma 3) each hidden unit i
computes act_i = act_fn(gate_i . x) * (up_i . x) and writes act_i times its column of the down
projection. That write, read through the unembedding (with the final norm's weight), says which
tokens the neuron promotes and suppresses here: a negative activation flips its column's effect.
"""
from __future__ import annotations

import pandas as pd
import torch

from core.lens.common import causal_adapter, check_position, decode
from core.runtime import models
from core.runtime.errors import InputError


@torch.inference_mode()
def mlp_neurons(result: models.RunResult, layer: int, position: int = -1, k: int = 10, n_tokens: int = 3) -> pd.DataFrame:
    """The ``k`` hidden units with the largest |act| at one (layer, position): columns neuron, gate,
    up, act, promotes, suppresses (``n_tokens`` tokens each that its write act x column raises and
    lowers most)."""
    ad = causal_adapter(result)
    if not 0 <= layer < ad.n_layers:
        raise InputError(f"Layer {layer} is out of range 0..{ad.n_layers - 1}.")
    pos = check_position(result, position)
    h = result.hidden_states[layer]
    mid = h + ad.attention(h, layer).total
    parts = ad.mlp_parts(mid, layer)
    act = parts.act[pos]
    top = act.abs().topk(min(k, act.shape[0])).indices
    dirs = ad.mlp_directions(layer)[top] * act[top, None]                     # (k, d_model) the writes
    norm_w = ad.final_norm_linear(torch.ones_like(dirs[:1]))[0]              # the final norm's weight
    logits = ad.unembed(norm_w(dirs)).float()                                # (k, vocab)
    up_ids = logits.topk(n_tokens, dim=-1).indices
    down_ids = (-logits).topk(n_tokens, dim=-1).indices
    lm = result.model
    return pd.DataFrame({"neuron": top.tolist(), "gate": parts.gate[pos, top].tolist(),
                         "up": parts.up[pos, top].tolist(), "act": act[top].tolist(),
                         "promotes": [" ".join(repr(t) for t in decode(lm, r)) for r in up_ids.tolist()],
                         "suppresses": [" ".join(repr(t) for t in decode(lm, r)) for r in down_ids.tolist()]})
