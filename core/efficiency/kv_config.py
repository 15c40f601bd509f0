"""What a KV cache depends on, per model: the fields of a config that size it (core.efficiency.kv_cache).

``KVConfig`` holds layers, heads, KV heads and head size, MLA's latent (kv_lora_rank = d_c) and
decoupled RoPE key (qk_rope_head_dim = d_h^R), the sliding window and which layers use it
(Hugging Face's ``layer_types``), and the parameter count with where it came from.
"""
from __future__ import annotations

from dataclasses import dataclass

DTYPES = {"fp32": 4.0, "bf16": 2.0, "fp8": 1.0, "int4": 0.5}      # bytes per element
LOCAL, GLOBAL = "sliding_attention", "full_attention"              # Hugging Face's layer_types names


@dataclass(frozen=True)
class KVConfig:
    name: str
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    hidden_size: int
    kv_lora_rank: int = 0            # MLA d_c; 0 for non-MLA models
    qk_rope_head_dim: int = 0        # MLA d_h^R (decoupled RoPE key)
    qk_nope_head_dim: int = 0        # MLA per-head K size without RoPE (for the "without MLA" line)
    v_head_dim: int = 0
    n_params: float | None = None    # total parameters (all experts for MoE)
    params_source: str = ""
    source: str = ""
    sliding_window: int | None = None            # keys a sliding layer's query sees, itself included
    layer_types: tuple[str, ...] | None = None   # per layer, LOCAL or GLOBAL; None + window: all slide

    def __post_init__(self):
        if self.sliding_window is not None and self.sliding_window < 1:
            raise ValueError(f"sliding_window must be positive, got {self.sliding_window}")
        if self.layer_types is not None:
            if len(self.layer_types) != self.n_layers or set(self.layer_types) - {LOCAL, GLOBAL}:
                raise ValueError(f"layer_types must list {LOCAL!r} or {GLOBAL!r} for each of {self.n_layers} layers")

    @property
    def attention(self) -> str:
        if self.kv_lora_rank:
            return "MLA"
        if self.n_kv_heads == self.n_heads:
            return "MHA"
        return "MQA" if self.n_kv_heads == 1 else "GQA"

    @property
    def n_local_layers(self) -> int:
        """Sliding-window layers: none without a window, all when a window comes without layer_types."""
        if not self.sliding_window:
            return 0
        return self.n_layers if self.layer_types is None else self.layer_types.count(LOCAL)

    @property
    def n_global_layers(self) -> int:
        return self.n_layers - self.n_local_layers

    @property
    def label(self) -> str:
        """Attention kind, plus the sliding layers when there are any: 'MQA, 15/18 layers window 512'."""
        if not self.n_local_layers:
            return self.attention
        return f"{self.attention}, {self.n_local_layers}/{self.n_layers} layers window {self.sliding_window:,}"
