"""KV-cache size from real model configs: MHA, GQA, MQA, MLA and sliding-window layers.

Per cached position, a decoder layer keeps
- MHA / GQA / MQA (Shazeer 2019; Ainslie et al. 2023): K and V for each KV head:
  2 x n_kv_heads x d_head elements;
- MLA (DeepSeek-AI 2024, "DeepSeek-V2", section 2.1): the compressed latent c_KV (kv_lora_rank
  = d_c) and the decoupled RoPE key shared by all heads (qk_rope_head_dim = d_h^R):
  d_c + d_h^R elements.
A global layer caches every past position, so its cache grows linearly with the sequence length;
MLA only has a smaller constant (it is *not* constant in length, a claim that circulates).

A sliding-window layer (Beltagy et al. 2020; Mistral 7B, Jiang et al. 2023; Gemma 3, Gemma Team
2025, which interleaves 5 local layers with 1 global) lets a query see the last ``window`` keys,
itself included. Hugging Face's DynamicCache therefore keeps ``window - 1`` positions per sliding
layer between steps (DynamicSlidingWindowLayer): the next query brings its own key, making
``window``. After T tokens the cache holds, per sequence,

    elements = per_layer x (n_global x T + n_local x min(T, window - 1))

so the curve bends at T = window - 1: the local layers' part stops growing, the global layers' part
does not.

d_head comes from the config's ``head_dim`` when present (it is not always hidden / heads).

The concepts around these formulas live beside them: the config (kv_config), the named presets
and bundled models (kv_presets), config.json parsing (kv_config_json) and the calculator's text
and comparison (kv_report). Their public names are importable from here too.
"""
from __future__ import annotations

import math

from core.efficiency.kv_config import DTYPES, GLOBAL, LOCAL, KVConfig
from core.efficiency.kv_config_json import estimate_params, from_hf_dict, parse_config_json, sliding_layers
from core.efficiency.kv_presets import bundled, gemma3, presets, smollm2

__all__ = ["DTYPES", "GLOBAL", "LOCAL", "KVConfig", "bundled", "cache_bytes", "cache_split", "cached_positions",
           "elements_per_token", "elements_per_token_past_window", "estimate_params", "from_hf_dict", "gemma3",
           "layer_elements", "parse_config_json", "presets", "sliding_layers", "smollm2", "tokens_that_fit",
           "without_mla_elements"]


def layer_elements(config: KVConfig) -> int:
    """Cached elements per position in one layer: 2 x n_kv_heads x d_head, or d_c + d_h^R for MLA."""
    if config.kv_lora_rank:
        return config.kv_lora_rank + config.qk_rope_head_dim
    return 2 * config.n_kv_heads * config.d_head


def elements_per_token(config: KVConfig) -> int:
    """Cached elements one token adds (K and V, all layers, one sequence) while every layer still
    grows: the slope of the cache in T while T < window - 1, and at every length without windows.

    MHA/GQA/MQA: 2 x n_kv_heads x d_head x layers. MLA: (kv_lora_rank + qk_rope_head_dim) x layers.
    """
    return layer_elements(config) * config.n_layers


def elements_per_token_past_window(config: KVConfig) -> int:
    """The slope once T >= window - 1: only the global layers still add positions."""
    return layer_elements(config) * config.n_global_layers


def cached_positions(config: KVConfig, seq_len: int) -> tuple[int, int]:
    """(positions each local layer holds, positions each global layer holds) after ``seq_len``
    tokens: (min(T, window - 1), T), as Hugging Face's DynamicCache keeps them between steps."""
    local = min(seq_len, config.sliding_window - 1) if config.n_local_layers else 0
    return local, seq_len


def cache_split(config: KVConfig, seq_len: int, batch: int = 1, bytes_per_element: float = 2) -> dict[str, int]:
    """Bytes of the local layers' and the global layers' caches: {"local": ..., "global": ...}."""
    local, full = cached_positions(config, seq_len)
    per = layer_elements(config) * batch * bytes_per_element
    return {"local": math.ceil(per * config.n_local_layers * local),
            "global": math.ceil(per * config.n_global_layers * full)}


def cache_bytes(config: KVConfig, seq_len: int, batch: int = 1, bytes_per_element: float = 2) -> int:
    """Bytes of the whole cache: layer_elements x (n_global x T + n_local x min(T, window - 1))
    x batch x bytes_per_element; elements_per_token x T x batch x bytes without windows."""
    local, full = cached_positions(config, seq_len)
    positions = config.n_global_layers * full + config.n_local_layers * local
    return math.ceil(layer_elements(config) * positions * batch * bytes_per_element)


def without_mla_elements(config: KVConfig) -> int | None:
    """What an MLA model would cache per token if it kept full per-head K and V instead."""
    if not config.kv_lora_rank:
        return None
    d_k = config.qk_nope_head_dim + config.qk_rope_head_dim
    return config.n_heads * (d_k + config.v_head_dim) * config.n_layers


def tokens_that_fit(config: KVConfig, gb: float, cache_bytes_per_element: float = 2,
                    weight_bytes_per_element: float = 2, batch: int = 1) -> dict:
    """Tokens (per sequence, for ``batch`` sequences) whose cache fits in ``gb`` x 10^9 bytes
    after the weights. Needs the parameter count; None when it is unknown, or when every layer
    slides and the cache stops growing within the memory."""
    if config.n_params is None:
        return {"tokens": None, "weights_bytes": None,
                "note": "parameter count unknown for this config, so the weights cannot be subtracted"}
    weights = config.n_params * weight_bytes_per_element
    free = gb * 1e9 - weights
    per_token = elements_per_token(config) * cache_bytes_per_element * batch
    if free <= 0:
        return {"tokens": 0, "weights_bytes": weights,
                "note": f"the weights alone ({weights / 1e9:,.1f} GB) do not fit in {gb:g} GB"}
    bend = config.sliding_window - 1 if config.n_local_layers else None
    if bend is None or free < per_token * bend:
        return {"tokens": int(free // per_token), "weights_bytes": weights, "note": ""}
    rest = free - cache_bytes(config, bend, batch, cache_bytes_per_element)
    if not config.n_global_layers:
        return {"tokens": None, "weights_bytes": weights,
                "note": f"every layer slides: the cache stops growing at {bend:,} positions, so memory "
                        "does not limit the length"}
    slope = elements_per_token_past_window(config) * cache_bytes_per_element * batch
    return {"tokens": bend + int(rest // slope), "weights_bytes": weights, "note": ""}
