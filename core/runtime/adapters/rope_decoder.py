"""Decoder-only models with RoPE: the Llama family (SmolLM2; Mistral, Qwen2 and Qwen3 from the
hub) and Gemma 3, which adds sandwich norms around each sublayer and alternates local/global layers.

Llama (Touvron et al. 2023):    h_mid = h + o_proj(attn(rmsnorm_in(h)))
                                out   = h_mid + mlp(rmsnorm_post_attn(h_mid))
Gemma 3 (Gemma Team 2025):      h_mid = h + post_attn_norm(o_proj(attn(input_norm(h))))
                                out   = h_mid + post_ff_norm(mlp(pre_ff_norm(h_mid)))
Qwen3 and Gemma 3 apply an RMSNorm to every query and key head before RoPE (``q_norm``/``k_norm``).
Gemma 3 layers listed as ``sliding_attention`` in ``config.layer_types`` see the last
``config.sliding_window`` keys (the query included) and use the local RoPE base (10k); the
``full_attention`` layers see everything and use the global base (1M). Mistral slides every layer.

A per-head split through Gemma's post-attention norm freezes that norm's scale at its real value
(RMSNorm is linear once the 1/rms factor is fixed), so the heads still sum to the sublayer's write.
"""
from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F

from core.runtime.adapters.base import (ADD, GLOBAL, LOCAL, Adapter, AttentionOut, MlpParts, Part, head_rows,
                                        split_output)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE as HF Llama applies it (halves rotated, not interleaved): x (head, pos, d_head),
    cos/sin (pos, d_head)."""
    return x * cos + _rotate_half(x) * sin


class LlamaAdapter(Adapter):
    family = "llama"
    causal = True

    def __init__(self, model, config):
        super().__init__(model, config)
        self.base = getattr(model, model.base_model_prefix, model)
        self.blocks = self.base.layers
        self._rope_takes_type = "layer_type" in inspect.signature(self.base.rotary_emb.forward).parameters
        types = getattr(config, "layer_types", None)
        win = getattr(config, "sliding_window", None)
        if types is None:                      # Mistral: every layer slides when a window is set
            types = ["sliding_attention" if win else "full_attention"] * config.num_hidden_layers
        self._types = list(types)
        self._window = win

    # ---------------------------------------------------------------- structure
    def layer_type(self, layer: int) -> str:
        return LOCAL if self._types[layer] == "sliding_attention" and self._window else GLOBAL

    def window(self, layer: int) -> int | None:
        return self._window if self.layer_type(layer) == LOCAL else None

    def rope_base(self, layer: int) -> float | None:
        params = getattr(self.config, "rope_parameters", None) or {}
        if self._types[layer] in params:                     # per-layer-type RoPE (Gemma 3)
            params = params[self._types[layer]]
        return params.get("rope_theta", getattr(self.config, "rope_theta", None))

    # ---------------------------------------------------------------- description
    norm_name = "RMSNorm"

    def _attention_part(self) -> Part:
        part = super()._attention_part()
        qk = ", q/k RMSNorm" if getattr(self.blocks[0].self_attn, "q_norm", None) is not None else ""
        return Part("attention", "attention + RoPE", part.note + f"; RoPE on q and k{qk}")

    def _mlp_part(self) -> Part:
        act = getattr(self.config, "hidden_activation", None) or getattr(self.config, "hidden_act", "")
        glu = "SwiGLU" if act == "silu" else "GeGLU" if "gelu" in act else f"gated {act}"
        return Part("mlp", f"{glu} MLP", f"down(act(gate·x) × up·x), {act}")

    # ---------------------------------------------------------------- pieces
    def _norm_in(self, block, h):
        return block.input_layernorm(h)

    def _post_attn(self, block, raw):
        """(the sublayer's write, the per-element factor that maps o_proj's output onto it or None)."""
        return raw, None

    def _rope(self, layer: int, x: torch.Tensor, n: int):
        pos = torch.arange(n, device=x.device)[None]
        args = (self._types[layer],) if self._rope_takes_type else ()
        cos, sin = self.base.rotary_emb(x[None], pos, *args)
        return cos[0], sin[0]                                # (pos, d_head) each

    def _qk_norm(self, attn, q, k):
        if getattr(attn, "q_norm", None) is not None:        # Qwen3, Gemma 3
            q, k = attn.q_norm(q), attn.k_norm(k)
        return q, k

    def scale(self, layer: int) -> float:
        return float(getattr(self.blocks[layer].self_attn, "scaling", self.layout.d_head ** -0.5))

    # ---------------------------------------------------------------- operations
    def qk(self, h, layer, heads=None, rows=None):
        self._check_layer(layer)
        block, lay = self.blocks[layer], self.layout
        attn = block.self_attn
        qh = self._heads(heads).to(h.device)
        kvh = torch.div(qh, lay.group, rounding_mode="floor")
        kv_unique = kvh.unique()
        x = self._norm_in(block, h)                          # (pos, d_model)
        rows = torch.arange(h.shape[0], device=h.device) if rows is None else rows.to(h.device)
        q = head_rows(attn.q_proj, x[rows], qh, lay.d_head)  # (head, q_pos, d_head)
        k = head_rows(attn.k_proj, x, kv_unique, lay.d_head)  # (kv_head, k_pos, d_head)
        q, k = self._qk_norm(attn, q, k)
        cos, sin = self._rope(layer, x, h.shape[0])
        q = apply_rope(q, cos[rows], sin[rows])
        k = apply_rope(k, cos, sin)
        k = k[torch.searchsorted(kv_unique, kvh)]            # (head, k_pos, d_head)
        return q, k, self.scale(layer)

    def _qkv_all(self, h, layer):
        block, lay = self.blocks[layer], self.layout
        attn = block.self_attn
        n = h.shape[0]
        x = self._norm_in(block, h)
        q = attn.q_proj(x).view(n, lay.n_heads, lay.d_head).transpose(0, 1)      # (head, pos, d_head)
        k = attn.k_proj(x).view(n, lay.n_kv_heads, lay.d_head).transpose(0, 1)   # (kv_head, pos, d_head)
        v = attn.v_proj(x).view(n, lay.n_kv_heads, lay.d_head).transpose(0, 1)
        q, k = self._qk_norm(attn, q, k)
        cos, sin = self._rope(layer, x, n)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        k = k.repeat_interleave(lay.group, dim=0)                                # (head, pos, d_head)
        v = v.repeat_interleave(lay.group, dim=0)
        return q, k, v

    def attention(self, h, layer, allowed=None, per_head=False, edit_z=None):
        self._check_layer(layer)
        block = self.blocks[layer]
        o_proj = block.self_attn.o_proj
        n = h.shape[0]
        q, k, v = self._qkv_all(h, layer)
        allowed = self.mask(layer, n, device=h.device) if allowed is None else allowed.to(h.device)
        if per_head:
            w = self.weights(q, k, self.scale(layer), allowed)                   # (head, q_pos, k_pos)
            z = w.to(v.dtype) @ v                                                # (head, pos, d_head)
        else:
            z = F.scaled_dot_product_attention(q[None], k[None], v[None], attn_mask=allowed,
                                               scale=self.scale(layer))[0]
        if edit_z is not None:
            z = edit_z(z)
        raw = o_proj(z.transpose(0, 1).reshape(n, -1))                            # (pos, d_model)
        total, factor = self._post_attn(block, raw)
        if not per_head:
            return AttentionOut(total, None, None)
        heads = split_output(o_proj.weight, z)                                   # (head, pos, d_model)
        bias = o_proj.bias
        if factor is not None:                               # a post-norm, its scale frozen
            heads = heads * factor[None]
            bias = None if bias is None else bias * factor
        return AttentionOut(total, heads, bias)

    def _mlp_in(self, block, h_mid):
        return block.post_attention_layernorm(h_mid)

    def _mlp_post(self, block, y):
        return y

    def mlp(self, h_mid, layer):
        block = self.blocks[layer]
        return self._mlp_post(block, block.mlp(self._mlp_in(block, h_mid)))

    def mlp_parts(self, h_mid, layer):
        mlp = self.blocks[layer].mlp
        x = self._mlp_in(self.blocks[layer], h_mid)
        gate, up = mlp.gate_proj(x), mlp.up_proj(x)
        return MlpParts(gate, up, mlp.act_fn(gate) * up)

    def mlp_directions(self, layer):
        return self.blocks[layer].mlp.down_proj.weight.T * self._post_weight(self.blocks[layer])

    def _post_weight(self, block):
        return 1.0

    def _rms_linear(self, norm, h_final, offset: float):
        """RMSNorm frozen at h_final: x -> x * w / rms(h_final) (Gemma stores w - 1: offset 1)."""
        eps = getattr(norm, "variance_epsilon", None) or getattr(norm, "eps", 1e-6)
        r = torch.rsqrt(h_final.float().pow(2).mean(-1, keepdim=True) + eps)
        factor = (r * (offset + norm.weight.float())).to(h_final.dtype)          # (pos, d_model)
        return (lambda x: x * factor), None

    def final_norm_linear(self, h_final):
        return self._rms_linear(self.base.norm, h_final, 0.0)

    def final_norm(self, h):
        return self.base.norm(h)

    def unembed(self, h):
        logits = self.model.get_output_embeddings()(h)
        cap = getattr(self.config, "final_logit_softcapping", None)
        return logits if cap is None else torch.tanh(logits / cap) * cap


class Gemma3Adapter(LlamaAdapter):
    family = "gemma3"

    def _block_parts(self):
        """Sandwich norms: a norm before and after each sublayer, then the add."""
        def norm(where):
            return Part("norm", "RMSNorm", f"{where}; Gemma stores the scale as w - 1")
        return (norm("before attention"), self._attention_part(), norm("after attention"), ADD,
                norm("before the MLP"), self._mlp_part(), norm("after the MLP"), ADD)

    def _post_attn(self, block, raw):
        norm = block.post_attention_layernorm               # Gemma RMSNorm: x / rms(x) * (1 + w)
        factor = torch.rsqrt(raw.float().pow(2).mean(-1, keepdim=True) + norm.eps) * (1.0 + norm.weight.float())
        return norm(raw), factor.to(raw.dtype)

    def _mlp_in(self, block, h_mid):
        return block.pre_feedforward_layernorm(h_mid)

    def _mlp_post(self, block, y):
        return block.post_feedforward_layernorm(y)

    def _post_weight(self, block):
        return 1.0 + block.post_feedforward_layernorm.weight

    def final_norm_linear(self, h_final):
        return self._rms_linear(self.base.norm, h_final, 1.0)
