"""One sentence through the transformer: the numbers behind the home page, stage by stage.

Every stage is read off one real forward pass (``core.runtime.models.run``); nothing is redrawn.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.attention import heads as attention
from core.runtime import models
from core.text import positional


@dataclass(frozen=True)
class Walkthrough:
    result: models.RunResult
    embeddings: np.ndarray        # (pos, d_model) token embeddings (hidden state entering layer 0)
    rope_angles: np.ndarray       # (q_pos, d_head/2) rotation angle of each RoPE pair, radians
    rope: dict                    # the model's RoPE settings, from its config
    head: np.ndarray              # (q_pos, k_pos) one attention head's weights
    residual_norms: np.ndarray    # (n_layers+1, q_pos) L2 norm of each token's residual stream
    final: np.ndarray             # (pos, d_model) the final block's output (after final norm)
    top_tokens: list[str]         # top next tokens after the last position
    top_probs: np.ndarray


def walkthrough(name: str, text: str, *, layer: int, head: int, k: int = 10) -> Walkthrough:
    res = models.run(name, text)
    lm = res.model
    rope = positional.rope_settings(lm.config)
    angles = positional.rope_angles(res.n_tokens, rope["d_head"], rope["rope_theta"] or 10000.0)
    hs = torch.stack([h.float() for h in res.hidden_states])          # (layer+1, pos, d_model)
    probs = torch.softmax(res.next_logits.float(), -1)
    p, i = probs.topk(k)
    return Walkthrough(
        result=res,
        embeddings=res.hidden_states[0].float().cpu().numpy(),
        rope_angles=angles.numpy(), rope=rope,
        head=attention.head_weights(res, layer, head).cpu().numpy(),
        residual_norms=hs.norm(dim=-1).cpu().numpy(),
        final=res.hidden_states[-1].float().cpu().numpy(),
        top_tokens=[lm.tokenizer.decode([t]) for t in i.tolist()], top_probs=p.cpu().numpy())
