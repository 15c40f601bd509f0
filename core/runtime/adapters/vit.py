"""Vision Transformers in Hugging Face's ``Dinov2Model`` (DINOv2, Oquab et al. 2023): bidirectional,
pre-LayerNorm, with LayerScale on both sublayers.

h_mid = h + ls1 * o_proj(attn(norm1(h))), out = h_mid + ls2 * fc2(gelu(fc1(norm2(h_mid)))); the
read-out is the final ``layernorm``. ViT (Dosovitskiy et al. 2020) tokens: position 0 is CLS, then
the patches row by row. There is no vocabulary: ``unembed`` stays unsupported.

Beyond the shared interface: ``embed`` (pixels -> the stream entering layer 0, through HF's own patch
embedding and position interpolation) and ``position_embeddings`` (the positions used for a patch
grid, bicubically interpolated from the learned 37 x 37 as DINOv2 does).

Shapes: a residual stream is (pos, d_model); pixels (batch, 3, height, width).
"""
from __future__ import annotations

import torch

from core.runtime.adapters.base import layernorm_linear, Adapter, AttentionOut, BlockOut, Part, head_rows, split_output


class ViTAdapter(Adapter):
    family = "vit"
    causal = False

    def __init__(self, model, config):
        super().__init__(model, config)
        self.base = getattr(model, model.base_model_prefix, model)      # Dinov2Model, or inside a head
        self.blocks = self.base.encoder.layer

    @property
    def patch_size(self) -> int:
        p = self.config.patch_size
        return p if isinstance(p, int) else p[0]

    def _embed_parts(self):
        p = self.patch_size
        return (Part("input", "image", "normalised pixels"),
                Part("embed", f"patch embedding ({p}×{p})", "each patch flattened and projected; CLS prepended"),
                Part("position", "+ learned positions", "interpolated to the patch grid"))

    def _head_parts(self):
        return (Part("norm", "final LayerNorm", "normalises the last layer's stream"),
                Part("output", "CLS + patch vectors", "no vocabulary: features for a task head"))

    # ---------------------------------------------------------------- vision extras
    def embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """(batch, 3, height, width) normalised pixels -> (batch, pos, d_model): CLS + patches
        + (interpolated) positions, exactly the model's own embedding layer."""
        return self.base.embeddings(pixels.to(self.base.embeddings.cls_token.dtype))

    def patch_embeddings(self, pixels: torch.Tensor) -> torch.Tensor:
        """(batch, 3, height, width) -> (batch, patch, d_model): the patch projection alone."""
        return self.base.embeddings.patch_embeddings(pixels)

    def position_embeddings(self, grid_h: int, grid_w: int) -> torch.Tensor:
        """(1 + grid_h * grid_w, d_model): the positions added for that patch grid, CLS first."""
        emb = self.base.embeddings
        d = emb.cls_token.shape[-1]
        probe = emb.cls_token.new_zeros(1, 1 + grid_h * grid_w, d)      # only its shape is read
        return emb.interpolate_pos_encoding(probe, grid_h * self.patch_size, grid_w * self.patch_size)[0]

    # ---------------------------------------------------------------- operations
    def qk(self, h, layer, heads=None, rows=None):
        self._check_layer(layer)
        blk = self.blocks[layer]
        x = blk.norm1(h)
        qh = self._heads(heads).to(h.device)
        xq = x if rows is None else x[rows.to(h.device)]
        d = self.layout.d_head
        return (head_rows(blk.attention.q_proj, xq, qh, d), head_rows(blk.attention.k_proj, x, qh, d),
                blk.attention.scaling)

    def attention(self, h, layer, allowed=None, per_head=False, edit_z=None):
        return self._attend(h, layer, allowed, per_head, edit_z)[0]

    def block_and_weights(self, h: torch.Tensor, layer: int) -> tuple[BlockOut, torch.Tensor]:
        """``block(h, layer)`` and the (head, q_pos, k_pos) attention weights it used, computed once
        (the ViT page keeps every layer's weights for rollout)."""
        attn, w = self._attend(h, layer)
        mid = h + attn.total
        mlp = self.mlp(mid, layer)
        return BlockOut(attn, mlp, mid + mlp), w

    def _attend(self, h, layer, allowed=None, per_head=False, edit_z=None) -> tuple[AttentionOut, torch.Tensor]:
        self._check_layer(layer)
        blk = self.blocks[layer]
        att, d = blk.attention, self.layout.d_head
        n = h.shape[0]
        x = blk.norm1(h)
        heads = self._heads(None).to(h.device)
        q, k, v = (head_rows(proj, x, heads, d) for proj in (att.q_proj, att.k_proj, att.v_proj))  # (head, pos, d_head)
        w = self.weights(q, k, att.scaling, None if allowed is None else allowed.to(h.device))
        z = w.to(v.dtype) @ v                                                       # (head, pos, d_head)
        if edit_z is not None:
            z = edit_z(z)
        ls = blk.layer_scale1.lambda1
        total = att.o_proj(z.transpose(0, 1).reshape(n, -1)) * ls                   # (pos, d_model)
        if not per_head:
            return AttentionOut(total, None, None), w
        return AttentionOut(total, split_output(att.o_proj.weight, z) * ls, att.o_proj.bias * ls), w

    def mlp(self, h_mid, layer):
        blk = self.blocks[layer]
        return blk.layer_scale2(blk.mlp(blk.norm2(h_mid)))

    def final_norm(self, h):
        return self.base.layernorm(h)

    def final_norm_linear(self, h_final):
        return layernorm_linear(self.base.layernorm, h_final)
