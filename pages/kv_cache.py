"""KV cache & MLA: cache bytes from real configs, and a real (random-weight) MLA module measured."""
import pandas as pd
import streamlit as st

from core.efficiency import kv_cache as kc
from core.runtime import limits
from core.efficiency import mla
from core.runtime.errors import InputError
from core.figures import efficiency as fx
from pages.ui import bad_input, guard, show_figure, show_table, url_multiselect, url_number, url_select

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
         "MLA, the latent size. Numbers below come from the models' published config.json files.")
st.info("**MLA's cache is not constant in sequence length.** A claim that circulates says MLA keeps "
        "memory “constant regardless of sequence length”. That is wrong: MLA caches one compressed latent "
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
                       f"of {up.d_head}. Parameters: {up.params_source}.", icon=":material/check:")
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
    chosen = url_multiselect("Models", names, "models",
                             ["Llama-2-7B", "Llama-3-8B", "Falcon-7B", "DeepSeek-V2-Lite", "DeepSeek-V3"])
    chosen += [n for n in names if n.startswith("uploaded") and n not in chosen]
    bpe = kc.DTYPES[dtype]
    if chosen:
        series = {n: [kc.cache_bytes(presets[n], t, batch, bpe) for t in CURVE] for n in chosen}
        kinds = {n: presets[n].attention for n in chosen}
        small = min(chosen, key=lambda n: kc.elements_per_token(presets[n]))
        show_figure(fx.cache_growth_figure(CURVE, series, kinds), "kv-cache-growth",
                    data=pd.DataFrame({"tokens": CURVE, **{n: v for n, v in series.items()}}),
                    summary=f"Every line is straight with slope 1 on log-log axes: all caches, MLA included, grow "
                            f"linearly. Smallest per token here: {small} ({kinds[small]}).")
        rows = []
        for n in chosen:
            c = presets[n]
            fit = kc.tokens_that_fit(c, gb, bpe, kc.DTYPES[wdtype], batch)
            rows.append({"model": n, "attention": c.attention, "layers": c.n_layers, "heads": c.n_heads,
                         "KV heads": None if c.kv_lora_rank else c.n_kv_heads, "d_head": c.d_head,
                         "d_c + d_h^R": (c.kv_lora_rank + c.qk_rope_head_dim) if c.kv_lora_rank else None,
                         "elements/token": kc.elements_per_token(c),
                         f"bytes/token ({dtype})": kc.cache_bytes(c, 1, 1, bpe),
                         f"GiB at {ctx:,} × {batch}": round(kc.cache_bytes(c, ctx, batch, bpe) / 2**30, 3),
                         "parameters": f"{c.n_params / 1e9:,.2f} B" if c.n_params else "unknown",
                         "parameter source": c.params_source,
                         f"tokens that fit in {gb:g} GB": "—" if fit["tokens"] is None else f"{fit['tokens']:,}",
                         "note": fit["note"], "config source": c.source})
        show_table(pd.DataFrame(rows), "kv-cache-table",
                   summary=f"“Tokens that fit”: ({gb:g} × 10⁹ B − parameters × {kc.DTYPES[wdtype]:g} B ({wdtype})) ÷ "
                           f"(bytes per token × batch {batch}); per sequence. MoE weights count every expert.")
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
        prompt = url_number("Prompt tokens (prefill)", "mla_prompt", 1, 4096, 128)
    with c3:
        new = url_number("Generated tokens (decode)", "mla_new", 1, 256, 16)
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
