"""Sections (tabs) of the "Inside the model" page. Each reads its widgets, makes cached core.lens
calls and renders core.figures.lens builders; the maths lives in core.lens (logit lens, direct
logit attribution, ablation, activation patching)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import lens
from core.figures import basic
from core.figures import lens as fx
from core.runtime import limits, models
from pages.ui import guard, show_figure, url_select, url_slider, url_text, url_toggle
from pages.ui.budget import budgeted_memo
from pages.ui.engine import load_model, run_model
from pages.ui.nav import by_url
from pages.ui.state import session_key

DEFAULT_TEXT = "The capital of France is"
LENS_POSITIONS = 128        # the grid reads at most the last 128 positions
PATCH_PRESETS = {"France → Italy": ("The capital of France is", "The capital of Italy is"),
                 "Eiffel Tower → Colosseum": ("The Eiffel Tower is in the city of",
                                              "The Colosseum is in the city of")}


@st.cache_resource(max_entries=8, show_spinner="Reading the stream at every depth…")
def logit_lens_of(name: str, text: str, last: int) -> lens.LogitLens:
    """The lens at the ``last`` positions (or all, if fewer), the final position included."""
    res = run_model(name, text)
    return lens.logit_lens(res, positions=list(range(max(0, res.n_tokens - last), res.n_tokens)))


@st.cache_resource(max_entries=8, show_spinner="Splitting the logit over heads and MLPs…")
def contributions_of(name: str, text: str, target: str | None) -> pd.DataFrame:
    return lens.contributions(run_model(name, text), target=target)


@st.cache_resource(max_entries=8, show_spinner="Rerunning the model with the ablation…")
def ablation_of(name: str, text: str, layer: int, head: int | None, part: str, how: str) -> lens.Ablation:
    return lens.ablate(name, text, layer, head, part, how)


def _prompt() -> str:
    return url_text("Prompt", "text", DEFAULT_TEXT, help="Shared by the logit lens, attribution and ablation tabs.")


def _per_layer(df: pd.DataFrame) -> pd.DataFrame:
    return df[df.component.isin(["attn", "mlp"])].pivot(index="layer", columns="component", values="logit")


def lens_tab(name: str) -> None:
    text = _prompt()
    n, ll = run_model(name, text).n_tokens, logit_lens_of(name, text, LENS_POSITIONS)
    depths, tok, p, start = fx.depth_labels(ll.n_rows), ll.final_token, ll.final_prob_by_depth, n - len(ll.input_tokens)
    first = int(np.argmax(ll.ids[:, -1, 0] == ll.final_id))
    below = f"; one row below it reads “{ll.tokens[first - 1][-1][0]}”" if first else ""
    long = (f" The grid reads the last {LENS_POSITIONS} of the {n:,} positions." if start else "") + (
        " At this length the cells carry no text: hover them." if len(ll.input_tokens) > fx.CELL_TEXT_POSITIONS else "")
    data = pd.DataFrame([{"depth": depths[d], "pos": start + i, "input token": t, "top token": ll.tokens[d][i][0],
                          "p": float(ll.probs[d, i, 0])}
                         for d in range(ll.n_rows) for i, t in enumerate(ll.input_tokens)])
    show_figure(fx.lens_grid([[c[0] for c in row] for row in ll.tokens], ll.probs[..., 0], ll.input_tokens,
                             first_pos=start, title=f"{name}: the top next token read at every depth"),
                f"logit-lens-{name}", data=data,
                summary=f"The model predicts “{tok}” (p = {p[-1]:.2f}); at the last position the lens first reads "
                        f"“{tok}” on top at depth {depths[first]}{below}.{long}")
    log = url_toggle("Log scale", "lens_log", False, help="Shows the climb from vanishingly small probabilities.")
    above = f"first above 10% at {depths[int(np.argmax(p >= 0.1))]}, " if (p >= 0.1).any() else ""
    show_figure(fx.depth_line(p, tok, log=log), f"logit-lens-depth-{name}",
                data=pd.DataFrame({"depth": depths, f"p({tok})": p}),
                summary=f"p(“{tok}”) at the last position: {p[0]:.2g} at the embeddings, {above}"
                        f"{p[-1]:.2f} at the output.")


def attribution_tab(name: str) -> None:
    text = _prompt()
    target = url_text("Target token", "target", "", placeholder="empty = the model's top prediction, e.g. ' Rome'",
                      help="Exactly one token; mind the leading space (' Paris', not 'Paris').")
    df = contributions_of(name, text, target or None)
    t, heads, per = df.attrs["target"], df[df.component == "head"], _per_layer(df)
    ranked = heads.sort_values("logit", ascending=False)
    best = ", ".join(f"L{r.layer} H{r.head} ({r.logit:+.2f})" for r in ranked.head(3).itertuples())
    grid = heads.pivot(index="layer", columns="head", values="logit").to_numpy()          # (layer, head)
    show_figure(fx.head_grid(grid, t, title=f"Each head's direct effect on logit(“{t}”)"), f"attribution-{name}",
                data=df, summary=f"The heads pushing “{t}” most: {best}. The logit ({df.attrs['logit']:.2f}) is "
                                    "the sum of every embed, attn, mlp and bias row of the CSV (final norm frozen).")
    mlp = per["mlp"].idxmax()
    show_figure(fx.layer_bars(per["mlp"], per["attn"], t), f"attribution-layers-{name}", data=per.reset_index(),
                summary=f"The MLP of layer {mlp} writes the most toward “{t}” ({per['mlp'][mlp]:+.2f}); all MLPs "
                        f"{per['mlp'].sum():+.2f}, all attention {per['attn'].sum():+.2f} logits.")
    labels = {f"L{r.layer} H{r.head}": f"L{r.layer} H{r.head} ({r.logit:+.2f})" for r in ranked.itertuples()}
    layer, head = (int(s[1:]) for s in url_select("Open a head on the attention page", list(labels), "open_head",
                                                  format_func=labels.get).split())
    picked = name in models.BUNDLED or limits.hosted()             # else it came through the picker's "other…"
    model = {"model": name} if picked else {"model": "other…", "model_custom": name}
    st.page_link(by_url("attention").file, label=f"Layer {layer} head {head}: where it looks on this prompt",
                 icon=":material/grid_on:", query_params={**model, "input": "your text", "attn_text": text,
                                                          "attn_layer": str(layer), "attn_head": str(head)})


def ablation_tab(name: str) -> None:
    text, ad = _prompt(), load_model(name).adapter
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        layer = url_slider("Layer", "abl_layer", 0, ad.n_layers - 1, ad.n_layers - 1)
    with c2:
        part = url_select("Part", list(lens.interventions.PARTS), "part", radio=True,
                          format_func={"attn": "attention", "mlp": "MLP"}.get)
    with c3:
        head = "all" if part == "mlp" else url_select("Head", ["all"] + list(range(ad.layout.n_heads)), "abl_head",
                                                      "all", format_func=lambda h: f"head {h}" if h != "all" else
                                                      "all heads")
    with c4:
        how = url_select("Replace by", list(lens.interventions.HOWS), "how", radio=True,
                         help="zero: set to 0; mean: its mean over the positions of this prompt")
    ab = ablation_of(name, text, layer, None if head == "all" else head, part, how)
    show_figure(fx.before_after(ab.before.token, ab.before.p, ab.after.token, ab.after.p, title=ab.note),
                f"ablation-{name}", data=pd.concat([ab.before.assign(run="before"), ab.after.assign(run="after")]),
                summary=f"Before: “{ab.before.token[0]}” (p = {ab.before.p[0]:.3f}); after: "
                        f"“{ab.after.token[0]}” (p = {ab.after.p[0]:.3f}); KL(before‖after) = {ab.kl:.3g} nats.")
    st.subheader(f"Which head matters most in layer {layer}?")
    key, done = (name, text, layer, how), st.session_state.setdefault("inside-swept", set())
    if st.button(f"Sweep every head of layer {layer}, and its MLP", icon=":material/travel_explore:",
                 key="inside-sweep"):
        done.add(key)
    if key not in done:
        st.caption("Not swept yet for this prompt, layer and replacement: press the button (one rerun per head).")
        return
    sw = budgeted_memo("sweep", key, lambda progress: lens.ablation_sweep(name, text, layer, how, progress=progress),
                       "Ablating one at a time:", 16)
    top = int(sw.kl.to_numpy().argmax())
    show_figure(basic.bars(sw.component, sw.kl, x_title="KL(before‖after), nats", highlight=top, text_fmt=".3g"),
                f"ablation-sweep-{name}-{layer}", data=sw,
                summary=f"In layer {layer}, knocking out {sw.component[top]} changes the prediction most "
                        f"(KL {sw.kl[top]:.3g} nats; top token after: “{sw['top after'][top]}”).")


def patching_tab(name: str) -> None:
    preset = url_select("Preset pair", list(PATCH_PRESETS), "preset",
                        help="Each pair has equal token counts on SmolLM2 and on Gemma 3.")
    if st.session_state.get("inside-last-preset", preset) != preset:
        st.session_state[session_key("clean")], st.session_state[session_key("corrupted")] = PATCH_PRESETS[preset]
    st.session_state["inside-last-preset"] = preset
    c1, c2, c3 = st.columns([2, 2, 1])
    with c1:
        clean = url_text("Clean prompt", "clean", PATCH_PRESETS[preset][0])
    with c2:
        corrupted = url_text("Corrupted prompt (same number of tokens)", "corrupted", PATCH_PRESETS[preset][1])
    with c3:
        target = url_text("Clean answer", "patch_target", "", placeholder="empty = its top token",
                          help="One token, e.g. ' Paris'; needed when both prompts have the same top token.")
    pt = budgeted_memo("patching", (name, clean, corrupted, target), lambda progress: lens.patch(
        name, clean, corrupted, target or None, progress=progress), "Patching one (layer, position) at a time:", 8)
    pairs = enumerate(zip(pt.clean_tokens, pt.corrupted_tokens))
    cols = [f"{i}:{c}" if c == x else f"{i}:{c} / {x}" for i, (c, x) in pairs]
    show_figure(fx.patch_grid(pt.grid, pt.clean_tokens, pt.corrupted_tokens, title=f"Restoring “{pt.clean_answer}” "
                              f"(clean) against “{pt.corrupted_answer}” (corrupted)"), f"patching-{name}",
                data=pd.DataFrame(pt.grid, columns=cols).rename_axis("layer").reset_index(), summary=pt.where())


def compare_tab(name: str) -> None:
    for col, key, default in zip(st.columns(2), ("text_a", "text_b"), PATCH_PRESETS["France → Italy"]):
        with col, guard(f"prompt {key[-1].upper()}"):
            text = url_text(f"Prompt {key[-1].upper()}", key, default)
            ll, df = logit_lens_of(name, text, 1), contributions_of(name, text, None)
            strip, per, t = ll.top_at(-1), _per_layer(df), df.attrs["target"]
            fig = fx.lens_grid([[s] for s in strip["top token"]], strip.p.to_numpy()[:, None], ll.input_tokens,
                               first_pos=run_model(name, text).n_tokens - 1, title=f"Last position → “{t}”")
            show_figure(fig, f"compare-{key}", data=strip,
                        summary=f"The top token at every depth after “{ll.input_tokens[-1]}”; the answer “{t}” "
                                f"(p = {ll.final_prob_by_depth[-1]:.2f}).")
            show_figure(fx.layer_bars(per["mlp"], per["attn"], t), f"compare-attribution-{key}", data=per.reset_index(),
                        summary=f"Direct effects on “{t}”: MLPs {per['mlp'].sum():+.2f}, attention "
                                f"{per['attn'].sum():+.2f} logits.")
