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

from core.runtime import limits, models
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


def formula(config: KVConfig, seq_len: int, batch: int = 1, dtype: str = "bf16") -> list[str]:
    """The cache formula with this config's numbers substituted, as markdown lines."""
    if config.n_local_layers:
        return _window_formula(config, seq_len, batch, dtype)
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


def _window_formula(config: KVConfig, seq_len: int, batch: int, dtype: str) -> list[str]:
    bpe, w, n_l, n_g = DTYPES[dtype], config.sliding_window, config.n_local_layers, config.n_global_layers
    local, full = cached_positions(config, seq_len)
    total = cache_bytes(config, seq_len, batch, bpe)
    if config.kv_lora_rank:
        per, per_sym = f"({config.kv_lora_rank} + {config.qk_rope_head_dim})", "(d_c + d_h^R)"
    else:
        per, per_sym = f"2 × {config.n_kv_heads} × {config.d_head}", "2 (K and V) × kv_heads × d_head"
    positions = n_g * full + n_l * local
    return [
        f"**{config.attention} with sliding-window layers** ({n_l} local with window {w:,}, {n_g} global): "
        f"bytes = bytes_per_element × {per_sym} × (n_global × T + n_local × min(T, window − 1)) × batch",
        f"= {bpe:g} × {per} × ({n_g} × {seq_len:,} + {n_l} × min({seq_len:,}, {w - 1:,})) × {batch} "
        f"= {bpe:g} × {layer_elements(config):,} × {positions:,} × {batch} "
        f"= **{total:,} B = {total / 2**30:,.4f} GiB** at T = {seq_len:,} ({dtype}).",
        f"Slope: {elements_per_token(config):,} elements per token while T < {w - 1:,} (every layer grows); past "
        + (f"that only the {n_g} global layers grow: {elements_per_token_past_window(config):,} elements per token."
           if n_g else "that no layer grows: every layer slides, so the cache stays the same size."),
        f"**Why window − 1 = {w - 1:,}**: a local layer's query sees the last {w:,} keys, itself included. Between "
        f"steps Hugging Face's cache keeps only the {w - 1:,} most recent keys and values per local layer; the next "
        f"token brings its own key, which makes {w:,}.",
    ]


def constant_memory_claim(config: KVConfig, seq_len: int, batch: int = 1, dtype: str = "bf16") -> str:
    """The common claim that sliding-window attention gives "constant memory", checked on ``config``:
    which part of its cache is constant past the window and which part still grows."""
    if not config.n_local_layers:
        return f"{config.name} has no sliding-window layers: its whole cache grows with the context."
    bpe, w = DTYPES[dtype], config.sliding_window
    part = cache_split(config, seq_len, batch, bpe)
    head = (f"**Constant memory?** A common claim says sliding-window attention keeps the KV cache constant. "
            "It holds for a model whose every layer slides (Mistral 7B's rolling buffer cache, Jiang et al. 2023, "
            f"arXiv:2310.06825, Sec. 2). For "
            f"{config.name} at {seq_len:,} tokens ({dtype}, batch {batch}): the {config.n_local_layers} local layers "
            f"hold min(T, {w - 1:,}) positions each, {part['local']:,} B, the same for any T ≥ {w - 1:,}: "
            "that part is constant. ")
    if not config.n_global_layers:
        return head + "Every layer slides here, so the whole cache is constant past the window."
    grow = elements_per_token_past_window(config) * bpe * batch
    return head + (f"The {config.n_global_layers} global layers hold all T positions, {part['global']:,} B, and "
                   f"still grow by {grow:,.0f} B per token. So the total keeps growing linearly, with "
                   f"{config.n_global_layers}/{config.n_layers} of the slope it has before the window.")


def compare(configs: dict[str, KVConfig], lengths: list[int], ctx: int, batch: int = 1, dtype: str = "bf16",
            gb: float = 80.0, weights_dtype: str = "bf16") -> dict:
    """Everything the cache calculator shows for several configs: the curves (total bytes and, for
    models with windows, the local/global parts; lengths gain each window - 1 so the bend is drawn),
    one table row per config, the curves as CSV columns and the text under the chart."""
    bpe = DTYPES[dtype]
    bends = {n: c.sliding_window - 1 for n, c in configs.items() if c.n_local_layers}
    xs = sorted(set(lengths) | {b for b in bends.values() if lengths[0] <= b <= lengths[-1]})
    series = {n: [cache_bytes(c, t, batch, bpe) for t in xs] for n, c in configs.items()}
    parts = {n: {k: [cache_split(configs[n], t, batch, bpe)[k] for t in xs] for k in ("local", "global")}
             for n in bends}
    rows = []
    for n, c in configs.items():
        fit = tokens_that_fit(c, gb, bpe, DTYPES[weights_dtype], batch)
        rows.append({"model": n, "attention": c.attention, "layers": c.n_layers, "heads": c.n_heads,
                     "KV heads": None if c.kv_lora_rank else c.n_kv_heads, "d_head": c.d_head,
                     "d_c + d_h^R": layer_elements(c) if c.kv_lora_rank else None,
                     "sliding layers": (f"{c.n_local_layers} (window {c.sliding_window:,})"
                                        if c.n_local_layers else "—"),
                     "elements/token": elements_per_token(c),
                     "elements/token past the window": elements_per_token_past_window(c) if c.n_local_layers else None,
                     f"bytes/token ({dtype})": cache_bytes(c, 1, 1, bpe),
                     f"GiB at {ctx:,} × {batch}": round(cache_bytes(c, ctx, batch, bpe) / 2**30, 3),
                     "parameters": f"{c.n_params / 1e9:,.2f} B" if c.n_params else "unknown",
                     "parameter source": c.params_source,
                     f"tokens that fit in {gb:g} GB": "—" if fit["tokens"] is None else f"{fit['tokens']:,}",
                     "note": fit["note"], "config source": c.source})
    small = min(configs, key=lambda n: cache_bytes(configs[n], ctx, 1, bpe))
    straight = len(bends) < len(configs)
    summary = "Straight lines with slope 1 on log-log axes grow linearly: MLA too. " if straight else ""
    if bends:
        summary += (f"Lines with sliding-window layers ({', '.join(bends)}) bend at window − 1: their local layers' "
                    "part (dotted) turns flat; a global layers' part (dash-dot), where there is one, keeps rising. ")
    summary += f"Smallest cache at {ctx:,} tokens here: {small} ({configs[small].label})."
    curve = {"tokens": xs, **series, **{f"{n}: {k} layers": v for n, p in parts.items() for k, v in p.items()}}
    return {"lengths": xs, "series": series, "parts": parts, "bends": bends, "curve": curve,
            "labels": {n: c.label for n, c in configs.items()},
            "kinds": {n: c.attention for n, c in configs.items()}, "rows": rows, "summary": summary}


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
    window, types = sliding_layers(cfg, layers)
    n_params, how = estimate_params(cfg, layers, heads, kv, d_head, hidden)
    return KVConfig(name, layers, heads, kv, (nope + rope) if rank else d_head, hidden, rank, rope, nope,
                    v_dim, n_params, how, "uploaded config.json", window, types)


_PATTERN_DEFAULTS = {"gemma2": 2, "gemma3": 6, "gemma3_text": 6}   # transformers' defaults: every n-th layer global


def sliding_layers(cfg: dict, layers: int) -> tuple[int | None, tuple[str, ...] | None]:
    """(sliding_window, layer_types) as transformers reads them from a config dict.

    ``layer_types`` lists ``sliding_attention`` / ``full_attention`` per layer (Gemma 2/3, newer
    configs of every family). Without it: Qwen2's ``use_sliding_window`` with ``max_window_layers``,
    Gemma's ``sliding_window_pattern`` (or the family default), and otherwise, Mistral-style, every
    layer slides when ``sliding_window`` is set. No window (or ``use_sliding_window: false``): no
    layer slides, whatever ``layer_types`` says, as in transformers.
    """
    types = cfg.get("layer_types")
    if types is not None:
        if not isinstance(types, list) or len(types) != layers:
            raise InputError(f"config.json: field 'layer_types' must be a list with one entry per layer "
                             f"({layers}), got {types!r:.80}.")
        bad = next(((i, t) for i, t in enumerate(types) if t not in (LOCAL, GLOBAL)), None)
        if bad:
            raise InputError(f"config.json: field 'layer_types' entry {bad[0]} is {bad[1]!r}; this calculator "
                             f"knows {LOCAL!r} and {GLOBAL!r}.")
    use = cfg.get("use_sliding_window")
    if use is not None and not isinstance(use, bool):
        raise InputError(f"config.json: field 'use_sliding_window' must be true or false, got {use!r}.")
    window = _int_field(cfg, ("sliding_window",), "the sliding-window size", required=False)
    if window is None or use is False:
        return None, None
    if types is None and use is True:                                   # Qwen2: the top layers slide
        first = cfg.get("max_window_layers", 0)
        if isinstance(first, bool) or not isinstance(first, int) or first < 0:
            raise InputError(f"config.json: field 'max_window_layers' must be a whole number ≥ 0, got {first!r}.")
        types = [LOCAL if i >= first else GLOBAL for i in range(layers)]
    if types is None:
        pattern = _int_field(cfg, ("sliding_window_pattern",), "the local/global layer pattern", required=False) \
            or _PATTERN_DEFAULTS.get(str(cfg.get("model_type")))
        types = [GLOBAL if pattern and (i + 1) % pattern == 0 else LOCAL for i in range(layers)]
    return window, tuple(types)


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
    except RecursionError:
        raise InputError("config.json nests arrays or objects too deeply to be a model config.") from None
    return from_hf_dict(cfg, name)
