"""Default heads the pages open on, chosen by measurement so the caption's claim is visible.

``PREVIOUS_TOKEN_HEAD[model] = (layer, head)``: the head whose strongest key is the previous token
on the pages' default sentences, measured with ``core.attention.stats`` (previous-token weight
``prev_token``, Olsson et al. 2022). SmolLM2-135M layer 16 head 0: every query of "The cat sat on
the mat because it was tired. Then the cat slept." (16 tokens) and of "The capital of France is"
puts its largest weight on the previous token (mean 0.79 on the first sentence), and 99 % of the
rows of the 512-token Lee text do too; earlier candidates (layer 11 head 1, layer 1 head 2) fall to
78-83 % there. tests/test_captions.py re-measures it. Models without an entry fall back to
``FALLBACK``.
"""
from __future__ import annotations

PREVIOUS_TOKEN_HEAD = {
    "smollm2-135m": (16, 0),
    "gemma3-270m": (2, 3),      # prev-token weight 0.67-0.72 on both default sentences (local layer)
    "minilm-l6": (0, 2),        # bidirectional, but 0.9997 of each row on the token to its left
}
FALLBACK = (3, 0)


def previous_token_head(name: str, n_layers: int, n_heads: int) -> tuple[int, int]:
    """(layer, head) to open ``name`` on, clipped to the model's size."""
    layer, head = PREVIOUS_TOKEN_HEAD.get(name, FALLBACK)
    return min(layer, n_layers - 1), min(head, n_heads - 1)
