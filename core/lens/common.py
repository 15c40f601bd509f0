"""What every lens needs from a causal RunResult: its adapter, the raw stream leaving the last
layer, and a token given as text turned into one id (or a clear refusal)."""
from __future__ import annotations

import torch

from core.runtime import models
from core.runtime.errors import InputError
from core.text.token_labels import decode_one


def causal_adapter(result: models.RunResult):
    if not result.causal:
        raise InputError(f"{result.model_name} is an encoder with no next-token head; the lenses need a "
                         "causal model such as smollm2-135m or gemma3-270m.")
    return result.adapter


@torch.inference_mode()
def final_stream(result: models.RunResult) -> torch.Tensor:
    """(pos, d_model): the raw residual stream leaving the last layer (before the final norm).
    ``result.hidden_states[-1]`` is already normed (transformers 5), so the last layer is rerun."""
    ad = causal_adapter(result)
    return ad.block(result.hidden_states[-2], ad.n_layers - 1).out


def check_position(result: models.RunResult, position: int) -> int:
    n = result.n_tokens
    if not -n <= position < n:
        raise InputError(f"Position {position} is outside the input's {n} tokens (0..{n - 1}, or -1 for the last).")
    return position % n


def token_id(lm: models.LoadedModel, target: str | int | None) -> int | None:
    """A target token from its id or its text; text must be exactly one token."""
    if target is None or isinstance(target, int):
        if isinstance(target, int) and not 0 <= target < lm.config.vocab_size:
            raise InputError(f"Token id {target} is outside the vocabulary (0..{lm.config.vocab_size - 1}).")
        return target
    if not str(target):
        raise InputError("The target token is empty.")
    ids = lm.tokenizer(str(target), add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        pieces = [lm.tokenizer.decode([i]) for i in ids]
        raise InputError(f"The target {target!r} is not a single token: it tokenizes to {len(ids)} tokens "
                         f"{pieces}. Pick one token, e.g. {pieces[0]!r} (mind the leading space).")
    return ids[0]


def decode(lm: models.LoadedModel, ids) -> list[str]:
    return [decode_one(lm.tokenizer, i) for i in ids]
