"""What the cache calculator shows: formulas with a config's numbers put in, the "constant
memory" claim checked, and several configs compared (curves, table rows, summary)."""
from __future__ import annotations

from core.efficiency.kv_cache import (DTYPES, KVConfig, cache_bytes, cache_split, cached_positions,
                                      elements_per_token, elements_per_token_past_window, layer_elements,
                                      tokens_that_fit, without_mla_elements)


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
