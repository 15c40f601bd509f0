"""BERT-style encoders (MiniLM-L6 and any ``BertModel``): bidirectional, post-LayerNorm.

Devlin et al. 2019: h_mid = LayerNorm(h + dense(attn(h))), out = LayerNorm(h_mid + ffn(h_mid)).
Queries and keys are projections of the raw stream (no pre-norm, no rotary positions: BERT adds
learned absolute positions once, before layer 0). Because each LayerNorm sits on the residual
stream itself, a sublayer's "write" is defined as the change it makes (``h_mid - h``), and there is
no per-head split of it: the LayerNorm mixes all heads' outputs with the stream.
"""
from __future__ import annotations

import torch

from core.runtime.adapters.base import ADD, Adapter, AttentionOut, Part, head_rows


class BertAdapter(Adapter):
    family = "bert"
    causal = False

    def __init__(self, model, config):
        super().__init__(model, config)
        self.blocks = model.encoder.layer

    def _embed_parts(self):
        return (Part("input", "token ids", "WordPiece ids with [CLS] and [SEP]"),
                Part("embed", "token + position + segment embedding", "three learned tables, summed"),
                Part("norm", "LayerNorm", "normalises the summed embeddings"))

    def _block_parts(self):
        """Post-norm (Devlin et al. 2019): the LayerNorm comes after each add."""
        norm = Part("norm", "LayerNorm", "normalises the stream after the add")
        return (self._attention_part(), ADD, norm, self._mlp_part(), ADD, norm)

    def qk(self, h, layer, heads=None, rows=None):
        self._check_layer(layer)
        sa = self.blocks[layer].attention.self
        qh = self._heads(heads).to(h.device)
        rows = torch.arange(h.shape[0], device=h.device) if rows is None else rows.to(h.device)
        d = self.layout.d_head
        return head_rows(sa.query, h[rows], qh, d), head_rows(sa.key, h, qh, d), d ** -0.5

    def attention(self, h, layer, allowed=None, per_head=False, edit_z=None):
        self._check_layer(layer)
        att = self.blocks[layer].attention
        n, d = h.shape[0], self.layout.d_head
        q, k, _ = self.qk(h, layer)
        v = head_rows(att.self.value, h, self._heads(None).to(h.device), d)   # (head, pos, d_head)
        w = self.weights(q, k, d ** -0.5, None if allowed is None else allowed.to(h.device))
        z = w.to(v.dtype) @ v                                                  # (head, pos, d_head)
        if edit_z is not None:
            z = edit_z(z)
        z = z.transpose(0, 1).reshape(n, -1)                                   # (pos, d_model)
        mid = att.output.LayerNorm(att.output.dense(z) + h)
        return AttentionOut(mid - h, None, None)

    def mlp(self, h_mid, layer):
        blk = self.blocks[layer]
        return blk.output.LayerNorm(blk.output.dense(blk.intermediate(h_mid)) + h_mid) - h_mid
