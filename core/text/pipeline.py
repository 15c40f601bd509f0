"""One sentence through the transformer: the numbers behind the home page, stage by stage.

Every stage is read off one real forward pass (``core.runtime.models.run``); nothing is redrawn.
The feed-forward, residual-stream and logit-lens stages ask ``core.lens``, which computes them
functionally through the model's adapter (Geva et al. 2021; Elhage et al. 2021; nostalgebraist 2020).

Shape names: layer, pos, q_pos, k_pos, d_model, d_head, vocab.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from core import lens
from core.attention import heads as attention
from core.runtime import models
from core.text import positional
from core.text.token_labels import decode_one

GLU = {"silu": "SwiGLU", "swish": "SwiGLU", "gelu": "GeGLU", "gelu_pytorch_tanh": "GeGLU", "gelu_new": "GeGLU"}


@dataclass(frozen=True)
class Walkthrough:
    result: models.RunResult
    layer: int                    # the layer of stages 4 (attention head) and 5 (feed-forward)
    embeddings: np.ndarray        # (pos, d_model) token embeddings (hidden state entering layer 0)
    rope_angles: np.ndarray       # (q_pos, d_head/2) rotation angle of each RoPE pair, radians
    rope: dict                    # the model's RoPE settings, from its config
    head: np.ndarray              # (q_pos, k_pos) one attention head's weights
    mlp: dict                     # the gated MLP's activation, its name (SwiGLU, GeGLU) and d_ff
    writes: pd.DataFrame          # (layer x part) rows at the last position: norm, logit (lens.residual_writes)
    strip: pd.DataFrame           # (layer+1) rows: the logit lens's top token and p at the last position
    final_token: str              # the model's own top next token (the lens's last row)
    residual_norms: np.ndarray    # (layer+1, q_pos) L2 norm of each token's residual stream
    final: np.ndarray             # (pos, d_model) the final block's output (after final norm)
    top_tokens: list[str]         # top next tokens after the last position
    top_probs: np.ndarray

    def feed_forward(self, position: int = -1, k: int = 10) -> pd.DataFrame:
        """The ``k`` units of ``self.layer``'s MLP with the largest |act| at one token: neuron, gate, up,
        act, and raises/lowers: the tokens each unit's actual write (act x its down-projection
        column) pushes up and down (``core.lens.mlp_neurons``' promotes/suppresses)."""
        df = lens.mlp_neurons(self.result, self.layer, position, k)
        return df.assign(raises=df["promotes"], lowers=df["suppresses"])

    def first_top(self) -> int:
        """The first depth (blocks applied) at which the lens's top token is the model's answer."""
        return int(np.argmax(self.strip["top token"].to_numpy() == self.final_token))

    def best_write(self) -> pd.Series:
        """The attention or MLP write with the largest direct effect on the predicted token's logit."""
        return self.writes.loc[self.writes["logit"].idxmax()]


def gated_mlp(config) -> dict:
    """act = act_fn(gate . x) * (up . x), then the down projection: which act_fn this model uses."""
    act = getattr(config, "hidden_activation", None) or getattr(config, "hidden_act", "") or ""
    return {"act": act, "name": GLU.get(act, "gated MLP"), "d_ff": int(config.intermediate_size)}


def walkthrough(name: str, text: str, *, layer: int, head: int, k: int = 10,
                base: Walkthrough | None = None) -> Walkthrough:
    """Every stage for ``text``; ``layer`` and ``head`` pick stages 4 and 5. ``base``: an earlier
    walkthrough of the same model and text, whose forward pass, lens and residual stages are
    reused, so moving the Layer or Head slider costs one head's weights, not a forward pass."""
    if base is None or base.result.model_name != name or base.result.text != text:
        base = _whole_pass(name, text, k)
    return replace(base, layer=layer, head=attention.head_weights(base.result, layer, head).cpu().numpy())


def _whole_pass(name: str, text: str, k: int) -> Walkthrough:
    """The stages that don't depend on the layer picked (stage 4's head filled for layer 0 head 0)."""
    res = models.run(name, text)
    lm = res.model
    rope = positional.rope_settings(lm.config)
    angles = positional.rope_angles(res.n_tokens, rope["d_head"], rope["rope_theta"] or 10000.0)
    hs = torch.stack([h.float() for h in res.hidden_states])          # (layer+1, pos, d_model)
    probs = torch.softmax(res.next_logits.float(), -1)
    p, i = probs.topk(k)
    ll = lens.logit_lens(res, k=1, positions=[-1])
    return Walkthrough(
        result=res, layer=0,
        embeddings=res.hidden_states[0].float().cpu().numpy(),
        rope_angles=angles.numpy(), rope=rope,
        head=np.zeros((0, 0), dtype=np.float32),
        mlp=gated_mlp(lm.config),
        writes=lens.residual_writes(res, position=-1),
        strip=ll.top_at(-1), final_token=ll.final_token,
        residual_norms=hs.norm(dim=-1).cpu().numpy(),
        final=res.hidden_states[-1].float().cpu().numpy(),
        top_tokens=[decode_one(lm.tokenizer, t) for t in i.tolist()], top_probs=p.cpu().numpy())
