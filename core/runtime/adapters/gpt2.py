"""GPT-2 (Radford et al. 2019): pre-LayerNorm decoder, learned absolute positions, fused qkv.

h_mid = h + c_proj(attn(ln_1(h))), out = h_mid + mlp(ln_2(h_mid)); read-out ln_f then the tied
embedding. HF's ``Conv1D`` stores weights as (in, out), the transpose of ``nn.Linear``.
"""
from __future__ import annotations

import torch

from core.runtime.adapters.base import layernorm_linear, Adapter, AttentionOut, Part


class GPT2Adapter(Adapter):
    family = "gpt2"
    causal = True

    def __init__(self, model, config):
        super().__init__(model, config)
        self.base = getattr(model, model.base_model_prefix, model)
        self.blocks = self.base.h

    def _embed_parts(self):
        return super()._embed_parts() + (Part("position", "+ learned positions", "one learned vector per position, added"),)

    def scale(self, layer: int) -> float:
        s = self.layout.d_head ** -0.5 if getattr(self.config, "scale_attn_weights", True) else 1.0
        return s / (layer + 1) if getattr(self.config, "scale_attn_by_inverse_layer_idx", False) else s

    def _qkv(self, h, layer):
        blk, lay = self.blocks[layer], self.layout
        n = h.shape[0]
        q, k, v = blk.attn.c_attn(blk.ln_1(h)).split(self.config.hidden_size, dim=-1)
        return tuple(t.view(n, lay.n_heads, lay.d_head).transpose(0, 1) for t in (q, k, v))  # (head, pos, d_head)

    def qk(self, h, layer, heads=None, rows=None):
        self._check_layer(layer)
        qh = self._heads(heads).to(h.device)
        q, k, _ = self._qkv(h, layer)
        q = q if rows is None else q[:, rows.to(h.device)]
        return q[qh], k[qh], self.scale(layer)

    def attention(self, h, layer, allowed=None, per_head=False, edit_z=None):
        self._check_layer(layer)
        proj = self.blocks[layer].attn.c_proj                # Conv1D: weight (head * d_head, d_model)
        n = h.shape[0]
        q, k, v = self._qkv(h, layer)
        allowed = self.mask(layer, n, device=h.device) if allowed is None else allowed.to(h.device)
        z = self.weights(q, k, self.scale(layer), allowed).to(v.dtype) @ v     # (head, pos, d_head)
        if edit_z is not None:
            z = edit_z(z)
        total = proj(z.transpose(0, 1).reshape(n, -1))
        if not per_head:
            return AttentionOut(total, None, None)
        w = proj.weight.view(self.layout.n_heads, self.layout.d_head, -1)     # (head, d_head, d_model)
        return AttentionOut(total, z @ w, proj.bias)

    def mlp(self, h_mid, layer):
        blk = self.blocks[layer]
        return blk.mlp(blk.ln_2(h_mid))

    def final_norm(self, h):
        return self.base.ln_f(h)

    def final_norm_linear(self, h_final):
        return layernorm_linear(self.base.ln_f, h_final)

    def unembed(self, h):
        return self.model.get_output_embeddings()(h)
