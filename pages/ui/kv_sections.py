"""The KV cache & MLA page's first section, the cache calculator over published configs and
uploaded config.json files (the MLA sections are in pages.ui.mla_sections). Widgets -> one core
call -> one figure builder (core.figures.efficiency) -> render."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.efficiency import kv_cache as kc
from core.efficiency import kv_report
from core.figures import efficiency as fx
from core.runtime import limits
from core.runtime.errors import InputError
from pages.ui import bad_input, show_figure, show_table, url_multiselect, url_number, url_select, url_toggle

CONTEXTS = [2**i for i in range(10, 21)]                  # 1k .. 1M tokens
CURVE = [2**i for i in range(7, 21)]


@st.cache_data(show_spinner="Reading configs…")
def all_presets() -> dict:
    return kc.presets()


def _upload(presets: dict) -> None:
    upload = st.file_uploader("Add a Hugging Face config.json", type=["json"], key="kv_upload",
                              help=f"Up to {limits.current().max_upload_bytes // 2**20} MB. Uploads are not "
                                   "stored in the link.")
    if upload is None:
        return
    try:
        up = kc.parse_config_json(upload.getvalue(), f"uploaded: {upload.name}")
    except InputError as exc:
        bad_input(str(exc))
        return
    presets[up.name] = up
    st.success(f"Read {upload.name}: {up.attention}, {up.n_layers} layers, {up.n_kv_heads} KV heads of {up.d_head}"
               + (f", {up.n_local_layers} sliding-window layers (window {up.sliding_window:,})"
                  if up.n_local_layers else "") + f". Parameters: {up.params_source}.", icon=":material/check:")


def calculator() -> None:
    presets = dict(all_presets())
    _upload(presets)
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
    if not chosen:
        return
    cmp = kv_report.compare({n: presets[n] for n in chosen}, CURVE, ctx, batch, dtype, gb, wdtype)
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
        st.info(kv_report.constant_memory_claim(presets[windowed[0]], ctx, batch, dtype), icon=":material/report:")
    focus = url_select("Formula for", chosen, "focus", chosen[-1])
    for line in kv_report.formula(presets[focus], ctx, batch, dtype):
        st.markdown(line)
