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
Preset numbers are copied from each model's published config.json (Hugging Face hub, the
repository named in ``source``); parameter counts are the published ones, as stated per preset.
The bundled models' presets are read from their own loaded config (core.runtime.models).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

from core.runtime import limits
from core.runtime.errors import InputError

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


def _hf(repo: str) -> str:
    return f"config.json of {repo} on the Hugging Face hub"


_PRESETS = [
    KVConfig("GPT-2 small", 12, 12, 12, 64, 768, n_params=124_439_808,
             params_source="counted from the config's shapes (124M published)", source=_hf("openai-community/gpt2")),
    KVConfig("GPT-2 XL", 48, 25, 25, 64, 1600, n_params=1_557_611_200,
             params_source="counted from the config's shapes (1.5B published)", source=_hf("openai-community/gpt2-xl")),
    KVConfig("Llama-2-7B", 32, 32, 32, 128, 4096, n_params=6_738_415_616,
             params_source="counted from the config's shapes (7B published)", source=_hf("meta-llama/Llama-2-7b-hf")),
    KVConfig("Llama-2-70B", 80, 64, 8, 128, 8192, n_params=68_976_648_192,
             params_source="counted from the config's shapes (70B published)", source=_hf("meta-llama/Llama-2-70b-hf")),
    KVConfig("Llama-3-8B", 32, 32, 8, 128, 4096, n_params=8_030_261_248,
             params_source="counted from the config's shapes (8B published)", source=_hf("meta-llama/Meta-Llama-3-8B")),
    KVConfig("Llama-3-70B", 80, 64, 8, 128, 8192, n_params=70_553_706_496,
             params_source="counted from the config's shapes (70B published)", source=_hf("meta-llama/Meta-Llama-3-70B")),
    KVConfig("Llama-3.1-405B", 126, 128, 8, 128, 16384, n_params=405_853_388_800,
             params_source="counted from the config's shapes (405B published)", source=_hf("meta-llama/Llama-3.1-405B")),
    KVConfig("Mistral-7B", 32, 32, 8, 128, 4096, n_params=7_241_732_096,
             params_source="counted from the config's shapes (7.3B published)", sliding_window=4096,
             source=_hf("mistralai/Mistral-7B-v0.1") + " (sliding_window: 4096, every layer)"),
    KVConfig("Qwen2.5-7B", 28, 28, 4, 128, 3584, n_params=7.61e9,
             params_source="published (model card: 7.61B)", source=_hf("Qwen/Qwen2.5-7B")),
    KVConfig("Qwen2.5-72B", 80, 64, 8, 128, 8192, n_params=72.7e9,
             params_source="published (model card: 72.7B)", source=_hf("Qwen/Qwen2.5-72B")),
    KVConfig("Falcon-7B", 32, 71, 1, 64, 4544, n_params=7.22e9,
             params_source="published (7B; 7.22B counted)", source=_hf("tiiuae/falcon-7b") + " (multi_query: true)"),
    KVConfig("DeepSeek-V2-Lite", 27, 16, 16, 192, 2048, kv_lora_rank=512, qk_rope_head_dim=64,
             qk_nope_head_dim=128, v_head_dim=128, n_params=15.7e9,
             params_source="published (15.7B total, 2.4B active per token)", source=_hf("deepseek-ai/DeepSeek-V2-Lite")),
    KVConfig("DeepSeek-V2", 60, 128, 128, 192, 5120, kv_lora_rank=512, qk_rope_head_dim=64,
             qk_nope_head_dim=128, v_head_dim=128, n_params=236e9,
             params_source="published (236B total, 21B active per token)", source=_hf("deepseek-ai/DeepSeek-V2")),
    KVConfig("DeepSeek-V3", 61, 128, 128, 192, 7168, kv_lora_rank=512, qk_rope_head_dim=64,
             qk_nope_head_dim=128, v_head_dim=128, n_params=671e9,
             params_source="published (671B total, 37B active per token)", source=_hf("deepseek-ai/DeepSeek-V3")),
]


def presets(include_registry: bool = True) -> dict[str, KVConfig]:
    """Named configs. SmolLM2 and Gemma 3 are read from the bundled models' own configs."""
    out = {c.name: c for c in _PRESETS}
    if include_registry:
        for read in (smollm2, gemma3):
            try:
                c = read()
                out[c.name] = c
            except Exception:                  # noqa: BLE001 - the model package may be absent
                pass
    return out


def bundled(model: str, name: str) -> KVConfig:
    """The preset of a bundled model, from its loaded config; parameters counted from its tensors."""
    from core.runtime import models
    lm = models.load(model)
    cfg = from_hf_dict(lm.config.to_dict(), name)
    n = sum(p.numel() for p in lm.model.parameters())            # tied embeddings counted once
    return replace(cfg, n_params=n, params_source="counted from the loaded model's tensors",
                   source=f"core.runtime.models.load('{model}').config (the bundled model)")


def smollm2() -> KVConfig:
    return bundled("smollm2-135m", "SmolLM2-135M")


def gemma3() -> KVConfig:
    """Gemma 3 270M: 18 layers, 5 sliding (window 512) then 1 global, repeating; 1 KV head of 256."""
    return bundled("gemma3-270m", "Gemma 3 270M")


# --------------------------------------------------------------------------- formulas

def elements_per_token(config: KVConfig) -> int:
    """Cached elements one token adds (K and V, all layers, one sequence).

    MHA/GQA/MQA: 2 x n_kv_heads x d_head x layers. MLA: (kv_lora_rank + qk_rope_head_dim) x layers.
    """
    if config.kv_lora_rank:
        return (config.kv_lora_rank + config.qk_rope_head_dim) * config.n_layers
    return 2 * config.n_kv_heads * config.d_head * config.n_layers


def cache_bytes(config: KVConfig, seq_len: int, batch: int = 1, bytes_per_element: float = 2) -> int:
    """Bytes of the whole cache: elements_per_token x seq_len x batch x bytes_per_element."""
    return math.ceil(elements_per_token(config) * seq_len * batch * bytes_per_element)


def without_mla_elements(config: KVConfig) -> int | None:
    """What an MLA model would cache per token if it kept full per-head K and V instead."""
    if not config.kv_lora_rank:
        return None
    d_k = config.qk_nope_head_dim + config.qk_rope_head_dim
    return config.n_heads * (d_k + config.v_head_dim) * config.n_layers


def tokens_that_fit(config: KVConfig, gb: float, cache_bytes_per_element: float = 2,
                    weight_bytes_per_element: float = 2, batch: int = 1) -> dict:
    """Tokens (per sequence, for ``batch`` sequences) whose cache fits in ``gb`` x 10^9 bytes
    after the weights. Needs the parameter count; None when it is unknown."""
    if config.n_params is None:
        return {"tokens": None, "weights_bytes": None,
                "note": "parameter count unknown for this config, so the weights cannot be subtracted"}
    weights = config.n_params * weight_bytes_per_element
    free = gb * 1e9 - weights
    per_token = elements_per_token(config) * cache_bytes_per_element * batch
    if free <= 0:
        return {"tokens": 0, "weights_bytes": weights,
                "note": f"the weights alone ({weights / 1e9:,.1f} GB) do not fit in {gb:g} GB"}
    return {"tokens": int(free // per_token), "weights_bytes": weights, "note": ""}


def formula(config: KVConfig, seq_len: int, batch: int = 1, dtype: str = "bf16") -> list[str]:
    """The cache formula with this config's numbers substituted, as markdown lines."""
    bpe = DTYPES[dtype]
    per_tok = elements_per_token(config)
    total = cache_bytes(config, seq_len, batch, bpe)
    if config.kv_lora_rank:
        lines = [f"**MLA**: (d_c + d_h^R) × layers = ({config.kv_lora_rank} + {config.qk_rope_head_dim}) × "
                 f"{config.n_layers} = **{per_tok:,} elements per token**"]
        full = without_mla_elements(config)
        lines.append(f"Without MLA (full K and V per head): heads × (d_k + d_v) × layers = {config.n_heads} × "
                     f"({config.qk_nope_head_dim + config.qk_rope_head_dim} + {config.v_head_dim}) × "
                     f"{config.n_layers} = {full:,} elements per token, {full / per_tok:.0f}× more.")
    else:
        lines = [f"**{config.attention}**: 2 (K and V) × kv_heads × d_head × layers = 2 × {config.n_kv_heads} × "
                 f"{config.d_head} × {config.n_layers} = **{per_tok:,} elements per token**"]
    lines.append(f"× {bpe:g} bytes ({dtype}) = {per_tok * bpe:,.0f} B per token; × {seq_len:,} tokens × batch "
                 f"{batch} = **{total:,} B = {total / 2**30:,.3f} GiB**. Linear in the number of tokens"
                 + (" — MLA too; only the constant is smaller." if config.kv_lora_rank else "."))
    return lines


# --------------------------------------------------------------------------- uploads

_ALIASES = {
    "layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "heads": ("num_attention_heads", "n_head"),
    "kv_heads": ("num_key_value_heads", "num_kv_heads", "n_head_kv"),
    "hidden": ("hidden_size", "n_embd", "d_model"),
}


def _int_field(cfg: dict, names: tuple[str, ...], what: str, *, required: bool = True) -> int | None:
    for name in names:
        if name in cfg and cfg[name] is not None:
            value = cfg[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    (isinstance(value, float) and not value.is_integer()):
                raise InputError(f"config.json: field '{name}' ({what}) must be an integer, got {value!r}.")
            if value <= 0:
                raise InputError(f"config.json: field '{name}' ({what}) must be positive, got {value!r}.")
            return int(value)
    if required:
        raise InputError(f"config.json is missing {what}: none of the fields "
                         f"{', '.join(repr(n) for n in names)} is present.")
    return None


def from_hf_dict(cfg: dict, name: str = "uploaded config") -> KVConfig:
    """A KVConfig from a Hugging Face config dict, validating every field it reads."""
    if not isinstance(cfg, dict):
        raise InputError("config.json must hold a JSON object ({...}) at the top level.")
    if "num_hidden_layers" not in cfg and isinstance(cfg.get("text_config"), dict):
        cfg = cfg["text_config"]                                       # multimodal wrappers
    layers = _int_field(cfg, _ALIASES["layers"], "the number of layers")
    heads = _int_field(cfg, _ALIASES["heads"], "the number of attention heads")
    hidden = _int_field(cfg, _ALIASES["hidden"], "the hidden size")
    kv = _int_field(cfg, _ALIASES["kv_heads"], "the number of key/value heads", required=False)
    if kv is None:
        kv = 1 if cfg.get("multi_query") is True else heads
    if kv > heads or heads % kv:
        raise InputError(f"config.json: {heads} attention heads cannot be shared by {kv} key/value heads "
                         "(field 'num_key_value_heads' must divide 'num_attention_heads').")
    d_head = _int_field(cfg, ("head_dim",), "the head size", required=False)
    if d_head is None:
        if hidden % heads:
            raise InputError(f"config.json: hidden size {hidden} is not divisible by {heads} heads and "
                             "there is no 'head_dim' field.")
        d_head = hidden // heads
    rank = _int_field(cfg, ("kv_lora_rank",), "the MLA latent size", required=False) or 0
    rope = _int_field(cfg, ("qk_rope_head_dim",), "the MLA RoPE key size", required=False) or 0
    if rank and not rope:
        raise InputError("config.json: 'kv_lora_rank' is set (MLA) but 'qk_rope_head_dim' is missing.")
    nope = _int_field(cfg, ("qk_nope_head_dim",), "the MLA per-head key size", required=False) or 0
    v_dim = _int_field(cfg, ("v_head_dim",), "the MLA value size", required=False) or 0
    n_params, how = estimate_params(cfg, layers, heads, kv, d_head, hidden)
    return KVConfig(name, layers, heads, kv, (nope + rope) if rank else d_head, hidden, rank, rope, nope,
                    v_dim, n_params, how, "uploaded config.json")


def estimate_params(cfg: dict, layers: int, heads: int, kv: int, d_head: int, hidden: int) -> tuple[float | None, str]:
    """Dense decoder parameter count from shapes (embeddings, attention, gated or plain MLP)."""
    if any(k in cfg for k in ("n_routed_experts", "num_local_experts", "num_experts")) or cfg.get("kv_lora_rank"):
        return None, "not counted: mixture-of-experts or MLA shapes need the published count"
    vocab = cfg.get("vocab_size")
    inter = cfg.get("intermediate_size") or cfg.get("n_inner") or (4 * hidden if "n_embd" in cfg else None)
    if not isinstance(vocab, int) or not isinstance(inter, int):
        return None, "not counted: 'vocab_size' or 'intermediate_size' missing"
    gated = "n_embd" not in cfg                          # Llama-style SwiGLU has 3 matrices
    attn = hidden * heads * d_head * 2 + hidden * kv * d_head * 2
    mlp = (3 if gated else 2) * hidden * inter
    emb = vocab * hidden * (1 if cfg.get("tie_word_embeddings", not gated) else 2)
    return float(emb + layers * (attn + mlp)), "estimated from the config's shapes (no biases or norms)"


def parse_config_json(data: bytes | str, name: str = "uploaded config") -> KVConfig:
    """Parse an uploaded config.json (size-checked), with messages naming the bad field."""
    raw = data.encode() if isinstance(data, str) else data
    cap = limits.current().max_upload_bytes
    if len(raw) > cap:
        raise InputError(f"The file is {len(raw):,} bytes; the upload cap is {cap:,} bytes.")
    try:
        cfg = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"config.json is not valid JSON: {exc}.") from exc
    return from_hf_dict(cfg, name)
