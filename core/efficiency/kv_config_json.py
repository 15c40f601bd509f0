"""A KVConfig from a Hugging Face config.json: every field validated, with messages naming it.

Reads the aliases of each family (GPT-2's n_layer, Falcon's multi_query, multimodal text_config
wrappers), MLA's fields, and the sliding-window layers the way transformers reads them; estimates
a dense model's parameter count from its shapes.
"""
from __future__ import annotations

import json

from core.efficiency.kv_config import GLOBAL, LOCAL, KVConfig
from core.runtime import limits
from core.runtime.errors import InputError

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
