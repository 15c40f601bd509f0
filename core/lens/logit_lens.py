"""The logit lens (nostalgebraist 2020): read the residual stream entering every layer with the
model's own final norm and unembedding, as if the model stopped there.

Row 0 is the embeddings, row l the stream entering layer l, and the last row the model's own
output (the stream after the last layer, through the final norm), so it equals the model's
next-token distribution. Logits are made a few layers at a time (at most ``LOGIT_ELEMENTS`` at
once), so (layer+1, pos, vocab) is never held, and a short read-out (the home page's last position)
passes the unembedding matrix once for all depths instead of once per depth: 30 matrix-vector
products on SmolLM2 read its 113 MB unembedding 30 times (issue #17: a third of a cold home rerun).

``residual_writes``: what each block writes into the stream at one position, attention and MLP
apart: the size of each write, and its direct effect on one token's logit (final norm frozen).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.lens.common import causal_adapter, check_position, decode, final_stream, token_id
from core.runtime import models
from core.runtime.errors import InputError
from core.text.token_labels import decode_one


LOGIT_ELEMENTS = 1 << 22        # logits held at once (16 MiB in float32)


@dataclass(frozen=True)
class LogitLens:
    ids: np.ndarray            # (layer+1, pos, k) top token ids per row and position
    probs: np.ndarray          # (layer+1, pos, k) their probabilities
    tokens: list[list[list[str]]]   # (layer+1, pos, k) the matching strings
    final_id: int              # the model's own top prediction after the last position
    final_token: str
    final_prob_by_depth: np.ndarray  # (layer+1,) p(final_token) at the last position read, row by row
    input_tokens: list[str]

    @property
    def n_rows(self) -> int:
        return self.ids.shape[0]

    def top_at(self, position: int = -1) -> pd.DataFrame:
        """The top token at every depth for one position: the strip the home page draws."""
        return pd.DataFrame({"row": range(self.n_rows), "top token": [r[position][0] for r in self.tokens],
                             "p": self.probs[:, position, 0], f"p({self.final_token})": self.final_prob_by_depth})


@torch.inference_mode()
def logit_lens(result: models.RunResult, k: int = 5, positions: list[int] | None = None) -> LogitLens:
    """Top-``k`` next tokens at every depth and position (see the module docstring). ``positions``
    restricts the read-out to some positions (the lens is position-wise, so the others need no
    (pos, vocab) logits); the arrays then have one column per listed position."""
    ad = causal_adapter(result)
    lm = result.model
    cols = list(range(result.n_tokens)) if positions is None else [check_position(result, p) for p in positions]
    if not cols:
        raise InputError("No positions to read.")
    rows = [h[cols] for h in result.hidden_states[:-1]]   # entering layers 0..L-1, (len(cols), d_model)
    ids, probs, final_by_depth = [], [], []
    own = torch.softmax(ad.unembed(result.hidden_states[-1][-1:]).float(), -1)[0]   # the model's output
    final_id = int(own.argmax())
    n, vocab = len(cols), own.shape[-1]
    per_chunk = max(1, LOGIT_ELEMENTS // (n * vocab))    # depths read through one unembedding product
    chunks = [torch.cat(rows[i:i + per_chunk]) for i in range(0, len(rows), per_chunk)]
    for x, final in [(x, False) for x in chunks] + [(result.hidden_states[-1][cols], True)]:
        logits = ad.unembed(x) if final else ad.logits(x)  # (depths * pos, vocab)
        p = torch.softmax(logits.float(), dim=-1).reshape(-1, n, vocab)     # (depths, pos, vocab)
        v, j = p.topk(k, dim=-1)
        ids.extend(j.cpu().numpy()), probs.extend(v.cpu().numpy())
        final_by_depth.extend(p[:, -1, final_id].tolist())
    ids_a = np.stack(ids)
    vocab = {int(t): decode_one(lm.tokenizer, t) for t in np.unique(ids_a)}
    tokens = [[[vocab[int(t)] for t in pos] for pos in row] for row in ids_a]
    return LogitLens(ids_a, np.stack(probs), tokens, final_id, vocab.get(final_id) or decode(lm, [final_id])[0],
                     np.array(final_by_depth), [result.tokens[c] for c in cols])


@torch.inference_mode()
def residual_writes(result: models.RunResult, position: int = -1, target: str | int | None = None) -> pd.DataFrame:
    """Per layer at one position: the norm of the attention and MLP writes and their direct effect on
    the target's logit (default: the model's top prediction), the final norm frozen at its value."""
    ad = causal_adapter(result)
    pos = check_position(result, position)
    tid = token_id(result.model, target)
    final = final_stream(result)
    apply, _ = ad.final_norm_linear(final[pos:pos + 1])
    w_u = result.model.model.get_output_embeddings().weight                   # (vocab, d_model)
    if tid is None:
        tid = int(ad.logits(final[pos:pos + 1])[0].argmax())
    direction = w_u[tid]
    rows = []
    for layer in range(ad.n_layers):
        b = ad.block(result.hidden_states[layer], layer)
        for part, write in (("attn", b.attn.total[pos]), ("mlp", b.mlp[pos])):
            rows.append({"layer": layer, "part": part, "norm": float(write.norm()),
                         "logit": float(apply(write[None])[0] @ direction)})
    out = pd.DataFrame(rows)
    out.attrs["target"] = decode(result.model, [tid])[0]
    return out
