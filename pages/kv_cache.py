"""KV cache & MLA: cache bytes from real configs (sliding-window layers included), and a real
(random-weight) MLA module measured."""
import pandas as pd
import streamlit as st

from core.efficiency import kv_cache as kc
from core.runtime import limits
from core.efficiency import mla
from core.runtime.errors import InputError
from core.figures import efficiency as fx
from pages.ui import bad_input, guard, show_figure, show_table, url_multiselect, url_number, url_select, url_toggle

CONTEXTS = [2**i for i in range(10, 21)]                  # 1k .. 1M tokens
CURVE = [2**i for i in range(7, 21)]


@st.cache_data(show_spinner="Reading configs…")
def all_presets() -> dict:
    return kc.presets()


@st.cache_data(max_entries=8, show_spinner="Running the four attention stacks…")
def decode_runs(preset: str, prompt: int, new: int) -> dict:
    return {k: mla.decode(k, mla.PRESETS[preset], prompt, new) for k in mla.KINDS}


st.title("KV cache & multi-head latent attention")
st.write("While generating, a decoder keeps every past token's keys and values so it never recomputes "
         "them: the **KV cache**. Its size is set by the config: layers, KV heads and head size, or, for "
         "MLA, the latent size; layers with a **sliding window** (Mistral, Gemma 3) keep only the last "
         "window − 1 positions. Numbers below come from the models' published config.json files.")
st.info("**MLA's cache is not constant in sequence length.** A claim that circulates says MLA keeps "
        "memory “constant regardless of sequence length”. The paper that introduced MLA says otherwise "
        "(DeepSeek-AI 2024, *DeepSeek-V2*, arXiv:2405.04434, Sec. 2.1 and Table 1: (d_c + d_h^R) · l elements "
        "per token): MLA caches one compressed latent "
        "c_KV (d_c numbers) and one shared RoPE key (d_h^R numbers) **per token per layer**, so its cache "
        "grows linearly with the context, like MHA's, with a much smaller per-token constant: "
        "(d_c + d_h^R) × layers = (512 + 64) × 61 = 35,136 elements per token for DeepSeek-V3.",
        icon=":material/report:")

with guard("the cache calculator"):
    presets = dict(all_presets())
    upload = st.file_uploader("Add a Hugging Face config.json", type=["json"], key="kv_upload",
                              help=f"Up to {limits.current().max_upload_bytes // 2**20} MB. Uploads are not "
                                   "stored in the link.")
    if upload is not None:
        try:
            up = kc.parse_config_json(upload.getvalue(), f"uploaded: {upload.name}")
            presets[up.name] = up
            st.success(f"Read {upload.name}: {up.attention}, {up.n_layers} layers, {up.n_kv_heads} KV heads "
                       f"of {up.d_head}"
                       + (f", {up.n_local_layers} sliding-window layers (window {up.sliding_window:,})"
                          if up.n_local_layers else "")
                       + f". Parameters: {up.params_source}.", icon=":material/check:")
        except InputError as exc:
            bad_input(str(exc))
    names = list(presets)
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        dtype = url_select("Cache dtype", list(kc.DTYPES), "dtype", "bf16")
    with c2:
        batch = url_number("Batch (sequences)", "batch", 1, 4096, 1)
    with c3:
        ctx = url_select("Context length", CONTEXTS, "ctx", 32768, format_func=lambda v: f"{v:,}")
    with c4:
        gb = url_number("Accelerator memory (GB)", "gb", 1.0, 10_000.0, 80.0)
    wdtype = url_select("Weights dtype (for what fits)", list(kc.DTYPES), "wdtype", "bf16")
    chosen = url_multiselect("Models", names, "models", ["Llama-2-7B", "Llama-3-8B", "Falcon-7B", "Gemma 3 270M",
                                                         "DeepSeek-V2-Lite", "DeepSeek-V3"])
    chosen += [n for n in names if n.startswith("uploaded") and n not in chosen]
    if chosen:
        cmp = kc.compare({n: presets[n] for n in chosen}, CURVE, ctx, batch, dtype, gb, wdtype)
        log = url_toggle("Log–log axes", "kv_log", False, help="Linear axes (the default) show each cache as a "
                         "straight line whose slope is its bytes per token; on log–log axes every linear cache is "
                         "a parallel line of slope 1, and only the vertical offset differs.")
        show_figure(fx.cache_growth_figure(cmp["lengths"], cmp["series"], cmp["kinds"], parts=cmp["parts"],
                                           bends=cmp["bends"], labels=cmp["labels"], log=log), "kv-cache-growth",
                    data=pd.DataFrame(cmp["curve"]), summary=cmp["summary"])
        show_table(pd.DataFrame(cmp["rows"]), "kv-cache-table",
                   summary=f"“Tokens that fit”: ({gb:g} × 10⁹ B − parameters × {kc.DTYPES[wdtype]:g} B ({wdtype})) ÷ "
                           f"(bytes per token × batch {batch}); per sequence, past the window only the global "
                           "layers' bytes per token count. MoE weights count every expert. It ignores each model's "
                           "maximum context length.")
        windowed = [n for n in chosen if presets[n].n_local_layers]
        if windowed:
            st.info(kc.constant_memory_claim(presets[windowed[0]], ctx, batch, dtype), icon=":material/report:")
        focus = url_select("Formula for", chosen, "focus", chosen[-1])
        for line in kc.formula(presets[focus], ctx, batch, dtype):
            st.markdown(line)

st.header("A real MLA module, measured")
st.warning("The weights below are **random** (seeded): this is DeepSeek-V2's MLA layer as code, to measure "
           "shapes, caches and time — not a trained model, and its outputs mean nothing.",
           icon=":material/casino:")
with guard("the MLA decode"):
    c1, c2, c3 = st.columns(3)
    with c1:
        preset = url_select("Shapes", list(mla.PRESETS), "mla_shapes", "small (fast)")
    with c2:
        prompt = url_number("Prompt tokens (prefill)", "mla_prompt", 1, 4096, 8)
    with c3:
        new = url_number("Generated tokens (decode)", "mla_new", 1, 256, 96)
    cfg = mla.PRESETS[preset]
    st.caption(f"{cfg.n_layers} layers, d_model {cfg.d_model}, {cfg.n_heads} heads, d_c {cfg.d_c}, "
               f"d_h^R {cfg.d_rope}, d_nope {cfg.d_nope}, d_v {cfg.d_v}; MHA/GQA baselines use d_head {cfg.d_v}, "
               f"GQA shares each KV head among {cfg.gqa_groups} query heads. fp32, batch 1.")
    runs = decode_runs(preset, prompt, new)
    diff = float((runs["MLA naive"].outputs - runs["MLA absorbed"].outputs).abs().max())
    curves, rows = {}, []
    for kind, r in runs.items():
        conf = mla.kv_config(kind, cfg)
        predicted = [kc.cache_bytes(conf, s, 1, r.bytes_per_element) for s in r.seq_lens]
        curves[kind] = (r.seq_lens, r.cache_bytes, predicted)
        rows.append({"cache": kind, "elements/token": kc.elements_per_token(conf),
                     "measured bytes (numel × element_size)": r.cache_bytes[-1],
                     "formula bytes": predicted[-1], "equal": r.cache_bytes == predicted,
                     "decode ms/token (median)": round(r.ms_per_token, 2)})
    show_figure(fx.measured_cache_figure({k: v for k, v in curves.items() if k != "MLA absorbed"}),
                "mla-measured-cache", data=pd.DataFrame(rows),
                summary=f"After {prompt + new} tokens the allocated caches hold {rows[0]['measured bytes (numel × element_size)']:,} B "
                        f"(MHA), {rows[1]['measured bytes (numel × element_size)']:,} B (GQA) and "
                        f"{rows[2]['measured bytes (numel × element_size)']:,} B (MLA), each equal to its formula; "
                        "all three grow by a fixed amount per token.")
    show_table(pd.DataFrame(rows), "mla-decode",
               summary=f"Naive and weight-absorbed MLA outputs differ by at most {diff:.1e} (same cache). "
                       "Timings are medians on this machine and are noisy when it is shared.")
    st.markdown(
        "**Naive vs absorbed: a trade, not a free win.** Each decode step, *naive* MLA up-projects every cached "
        f"latent back to per-head keys and values: {cfg.d_c} × {cfg.n_heads} × ({cfg.d_nope} + {cfg.d_v}) = "
        f"{cfg.d_c * cfg.n_heads * (cfg.d_nope + cfg.d_v):,} multiply-adds per cached token per layer, growing with "
        "the context and the batch. *Absorbed* MLA folds W_UK into the query and W_UV into the output "
        "(DeepSeek-V2, Sec. 2.1.2), so attention runs on the latent directly, but it multiplies by larger folded "
        f"matrices (W_OV is {cfg.n_heads} × {cfg.d_c} × {cfg.d_model}, against W_O's {cfg.n_heads * cfg.d_v} × "
        f"{cfg.d_model}) and runs its scores at width {cfg.d_c} instead of {cfg.d_nope}. At batch 1 and a "
        "few hundred tokens the up-projection is small and kernel overheads decide, so absorbed can be slower "
        "here, as the table shows; it pays off when batch × context is large, the regime DeepSeek serves.")
