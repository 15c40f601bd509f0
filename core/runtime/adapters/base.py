"""The interface every architecture adapter implements: one place that knows a model family.

A view never reaches into a Hugging Face module tree. It asks the model's adapter, which maps the
family's own layers onto these operations, all computed functionally from a hidden state (no
hooks, nothing written to the shared model):

- ``mask(layer, n)``: the boolean (q_pos, k_pos) mask that layer really applies (causal,
  bidirectional, or causal sliding-window), True where a query may attend to a key;
- ``qk(h, layer)``: per-head queries and keys after the layer's own norm, q/k-norm and RoPE;
- ``attention(h, layer)``: the attention sublayer's write into the residual stream, optionally per
  head, under the real mask or any ``allowed`` mask a caller passes;
- ``mlp(h_mid, layer)``: the feed-forward sublayer's write;
- ``block(h, layer)``: both, so that ``h + attn + mlp`` is the hidden state entering the next layer;
- ``final_norm(h)`` and ``unembed(h)``: the read-out to logits;
- ``architecture()``: a description of the whole model (stacks, each block's sublayers in order,
  per-layer types, sizes) that the model map draws; no tensors, read from the config and modules.
  Its vocabulary (``Architecture``, ``Stack``, ``Part``, ``HeadLayout``) lives in the torch-free
  ``core.runtime.architecture``, so a stored description can be drawn before torch is imported.

Shape names: head, q_pos, k_pos, pos, d_model, d_head, vocab. A residual stream is (pos, d_model).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.runtime.architecture import (ADD, BIDIRECTIONAL, GLOBAL, LOCAL, Architecture, HeadLayout, Part,  # noqa: F401
                                       Stack, layout_of)
from core.runtime.errors import UnsupportedArchitecture


@dataclass(frozen=True)
class AttentionOut:
    """The attention sublayer's write into the residual stream."""
    total: torch.Tensor                  # (pos, d_model)
    per_head: torch.Tensor | None        # (head, pos, d_model); per_head.sum(0) + bias == total
    bias: torch.Tensor | None            # (d_model,) the part no single head writes (output bias)


@dataclass(frozen=True)
class MlpParts:
    """A gated feed-forward layer's hidden units at every position (SwiGLU, GeGLU)."""
    gate: torch.Tensor                   # (pos, d_ff) gate_proj(x), before the activation
    up: torch.Tensor                     # (pos, d_ff) up_proj(x)
    act: torch.Tensor                    # (pos, d_ff) act_fn(gate) * up: the down projection's input


@dataclass(frozen=True)
class BlockOut:
    """One layer: ``h + attn.total + mlp == out``, the hidden state entering the next layer."""
    attn: AttentionOut
    mlp: torch.Tensor                    # (pos, d_model)
    out: torch.Tensor                    # (pos, d_model)


def causal_mask(n_q: int, n_k: int | None = None, rows: torch.Tensor | None = None,
                window: int | None = None, device=None) -> torch.Tensor:
    """(q_pos, k_pos) bool: key j visible to query i when j <= i, and i - j < window if windowed.
    ``window`` counts the query itself, as HF's ``sliding_window_overlay`` (kv_idx > q_idx - window)."""
    n_k = n_q if n_k is None else n_k
    q = (torch.arange(n_q, device=device) if rows is None else rows.to(device))[:, None]
    k = torch.arange(n_k, device=device)[None, :]
    allowed = k <= q
    if window is not None:
        allowed = allowed & (k > q - window)
    return allowed


class Adapter:
    """Base class. Subclasses set ``family`` and implement the operations below."""
    family = "base"
    causal = True

    def __init__(self, model: torch.nn.Module, config):
        self.model, self.config = model, config
        self.layout = layout_of(config)

    # ---------------------------------------------------------------- structure
    @property
    def n_layers(self) -> int:
        return self.config.num_hidden_layers

    def layer_type(self, layer: int) -> str:
        return GLOBAL if self.causal else BIDIRECTIONAL

    def window(self, layer: int) -> int | None:
        """Keys a query sees in a sliding-window layer, itself included; None when unlimited."""
        return None

    def layer_label(self, layer: int) -> str:
        w = self.window(layer)
        return f"local (window {w:,})" if w else self.layer_type(layer)

    def cached_positions(self, layer: int, n_tokens: int) -> int:
        """Key/value positions HF's cache holds for this layer after ``n_tokens`` have gone through.
        A sliding layer keeps window - 1: the next query brings its own key, making ``window``."""
        w = self.window(layer)
        return n_tokens if w is None else min(n_tokens, w - 1)

    def kv_cache_bytes(self, n_tokens: int, bytes_per_element: int) -> int:
        """K and V bytes for ``n_tokens``: sum over layers of 2 x positions x kv_heads x d_head x bytes."""
        per_pos = 2 * self.layout.n_kv_heads * self.layout.d_head * bytes_per_element
        return sum(self.cached_positions(layer, n_tokens) for layer in range(self.n_layers)) * per_pos

    def mask(self, layer: int, n: int, rows: torch.Tensor | None = None, device=None) -> torch.Tensor:
        """The bool mask layer ``layer`` applies to one unpadded sequence of ``n`` tokens:
        (q_pos, k_pos), or (len(rows), k_pos) for some query rows."""
        self._check_layer(layer)
        if not self.causal:
            return torch.ones(n if rows is None else len(rows), n, dtype=torch.bool, device=device)
        return causal_mask(n, n, rows, self.window(layer), device)

    def _check_layer(self, layer: int) -> None:
        if not 0 <= layer < self.n_layers:
            raise IndexError(f"layer {layer} out of range 0..{self.n_layers - 1}")

    def _heads(self, heads) -> torch.Tensor:
        heads = list(range(self.layout.n_heads)) if heads is None else list(heads)
        if any(not 0 <= h < self.layout.n_heads for h in heads):
            raise IndexError(f"head out of range 0..{self.layout.n_heads - 1}")
        return torch.tensor(heads, dtype=torch.long)

    # ---------------------------------------------------------------- description
    norm_name = "LayerNorm"

    def architecture(self) -> Architecture:
        """The whole model as the map draws it; families override the parts that differ."""
        return Architecture(self.family, (self._stack(),))

    def _stack(self) -> Stack:
        cfg = self.config
        d_model = cfg.hidden_size
        d_ff = getattr(cfg, "intermediate_size", None) or getattr(cfg, "n_inner", None) or 4 * d_model
        windows = [self.window(i) for i in range(self.n_layers)]
        return Stack("decoder" if self.causal else "encoder", self._embed_parts(), self._block_parts(),
                     tuple(self.layer_type(i) for i in range(self.n_layers)), self._head_parts(),
                     d_model, self.layout, int(d_ff), getattr(cfg, "vocab_size", None),
                     next((w for w in windows if w), None))

    def _embed_parts(self) -> tuple[Part, ...]:
        return (Part("input", "token ids", "the tokenizer's output"),
                Part("embed", "token embedding", "one learned vector per vocabulary entry"))

    def _attention_part(self) -> Part:
        mask = "causal" if self.causal else "bidirectional"
        return Part("attention", "attention", f"{self.layout.n_heads} query heads, {self.layout.n_kv_heads} "
                    f"key/value heads, {mask} mask")

    def _mlp_part(self) -> Part:
        act = getattr(self.config, "hidden_act", None) or getattr(self.config, "activation_function", "")
        return Part("mlp", f"MLP ({act})" if act else "MLP", "two linear maps around a non-linearity, per token")

    def _block_parts(self) -> tuple[Part, ...]:
        """Pre-norm (GPT-2, Llama): norm -> attention -> add -> norm -> MLP -> add."""
        norm = Part("norm", self.norm_name, "normalises each token's vector before the sublayer")
        return (norm, self._attention_part(), ADD, norm, self._mlp_part(), ADD)

    def _head_parts(self) -> tuple[Part, ...]:
        if self.model.get_output_embeddings() is None:
            return (Part("output", "contextual vectors", "one vector per token; no language-model head"),)
        return (Part("norm", f"final {self.norm_name}", "normalises the last layer's stream"),
                Part("unembed", "unembedding", "vector -> one logit per vocabulary entry"),
                Part("output", "next token", "softmax over the vocabulary at the last position"))

    # ---------------------------------------------------------------- operations
    def qk(self, h: torch.Tensor, layer: int, heads=None, rows: torch.Tensor | None = None):
        """(q (head, q_pos, d_head), k (head, k_pos, d_head), scale) from the stream entering
        ``layer``; keys are those each query head reads (GQA resolved)."""
        raise NotImplementedError

    def attention(self, h: torch.Tensor, layer: int, allowed: torch.Tensor | None = None,
                  per_head: bool = False, edit_z=None) -> AttentionOut:
        """The attention sublayer's write. ``allowed``: (q_pos, k_pos) or (head, q_pos, k_pos) bool
        mask to use instead of the layer's own. ``edit_z``: a function of the heads' outputs
        z (head, pos, d_head) -> z, applied where a forward pre-hook on the output projection would
        act (ablations); the layer's norms then see the edited heads, as in the real model."""
        raise NotImplementedError

    def mlp(self, h_mid: torch.Tensor, layer: int) -> torch.Tensor:
        raise NotImplementedError

    def mlp_parts(self, h_mid: torch.Tensor, layer: int) -> MlpParts:
        raise UnsupportedArchitecture(f"{self.family}'s feed-forward layer is not gated")

    def mlp_directions(self, layer: int) -> torch.Tensor:
        """(d_ff, d_model): what one unit of each hidden neuron writes into the stream (the down
        projection's columns, through any post-norm's weight; its 1/rms factor is left out)."""
        raise UnsupportedArchitecture(f"{self.family}'s feed-forward layer is not gated")

    def block(self, h: torch.Tensor, layer: int, allowed: torch.Tensor | None = None,
              per_head: bool = False, edit_z=None, edit_mlp=None) -> BlockOut:
        """One layer; ``edit_mlp`` maps the MLP's write (pos, d_model) to a replacement."""
        attn = self.attention(h, layer, allowed, per_head, edit_z)
        mid = h + attn.total
        mlp = self.mlp(mid, layer)
        if edit_mlp is not None:
            mlp = edit_mlp(mlp)
        return BlockOut(attn, mlp, mid + mlp)

    def run_from(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        """The stream entering ``layer`` through every later layer: the raw stream after the last."""
        for i in range(layer, self.n_layers):
            h = self.block(h, i).out
        return h

    def final_norm_linear(self, h_final: torch.Tensor):
        """The final norm with its scale frozen at its value on ``h_final`` (pos, d_model): a linear
        map ``apply(x)`` plus a constant (d_model,) or None, with final_norm(h) = apply(h) + const.
        Direct logit attribution pushes each component's write through ``apply``."""
        raise UnsupportedArchitecture(f"{self.family} has no language-model read-out")

    def final_norm(self, h: torch.Tensor) -> torch.Tensor:
        raise UnsupportedArchitecture(f"{self.family} has no language-model read-out")

    def unembed(self, h: torch.Tensor) -> torch.Tensor:
        """(pos, d_model) normed stream -> (pos, vocab) logits."""
        raise UnsupportedArchitecture(f"{self.family} has no language-model read-out")

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.unembed(self.final_norm(h))

    # ---------------------------------------------------------------- shared maths
    @staticmethod
    def weights(q: torch.Tensor, k: torch.Tensor, scale: float, allowed: torch.Tensor | None) -> torch.Tensor:
        """softmax(q k^T * scale) with disallowed keys at -inf: (..., q_pos, k_pos), float32."""
        s = (q @ k.transpose(-1, -2)).float() * scale
        if allowed is not None:
            s = s.masked_fill(~allowed, float("-inf"))
        return torch.softmax(s, dim=-1)


def head_rows(linear: torch.nn.Linear, x: torch.Tensor, heads: torch.Tensor, d_head: int) -> torch.Tensor:
    """Only the output rows of a per-head projection that belong to ``heads``:
    (pos, d_model) -> (head, pos, d_head)."""
    w = linear.weight.view(-1, d_head, linear.weight.shape[-1])[heads].reshape(-1, linear.weight.shape[-1])
    b = None if linear.bias is None else linear.bias.view(-1, d_head)[heads].reshape(-1)
    y = torch.nn.functional.linear(x, w, b)                  # (pos, len(heads) * d_head)
    return y.view(y.shape[0], len(heads), d_head).transpose(0, 1)


def split_output(weight: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Per-head writes of an output projection: weight (d_model, head * d_head), z (head, pos,
    d_head) -> (head, pos, d_model); their sum is the projection without its bias."""
    n_heads, _, d_head = z.shape
    w = weight.view(weight.shape[0], n_heads, d_head).permute(1, 2, 0)   # (head, d_head, d_model)
    return z @ w


def layernorm_linear(ln: torch.nn.LayerNorm, h_final: torch.Tensor):
    """A LayerNorm frozen at h_final: centring is linear, 1/std is frozen, the bias is constant.
    Returns (apply, const) with ln(h_final) == apply(h_final) + const."""
    factor = torch.rsqrt(h_final.var(-1, unbiased=False, keepdim=True) + ln.eps) * ln.weight
    return (lambda x: (x - x.mean(-1, keepdim=True)) * factor), ln.bias
