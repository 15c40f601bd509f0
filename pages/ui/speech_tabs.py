"""Sections (tabs) of the "Encoder–decoder & cross-attention" page, and its cached core calls. The
maths lives in core.speech and the Whisper adapter; figures in core.figures.speech, with the attention
page's long-input renderer and the causal page's mask views reused."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import core.speech as speech
from core.figures import attention as figs
from core.figures import speech as fx
from core.runtime.adapters.whisper import FRAME_S
from pages.ui import show_figure, show_table, url_select, url_slider, url_toggle

ALIGN = "mean of the alignment heads"


@st.cache_resource(max_entries=8, show_spinner="Speaking with espeak-ng, then transcribing…")
def transcribe_text(text: str) -> speech.Transcription:
    return speech.transcribe(*speech.speak(text))


@st.cache_resource(max_entries=8, show_spinner="Decoding the audio, then transcribing…")
def transcribe_bytes(data: bytes, what: str) -> speech.Transcription:
    return speech.transcribe(*speech.decode(data, what=what))


def _layer_head(key: str, r: speech.Transcription, extra: tuple[str, ...] = ()) -> tuple[int, int | str]:
    cfg = r.model.config
    c1, c2 = st.columns(2)
    with c1:
        layer = url_slider("Layer", f"{key}_layer", 0, cfg.decoder_layers - 1, cfg.decoder_layers - 1)
    with c2:
        head = url_select("Head", [*extra, *map(str, range(cfg.decoder_attention_heads))], f"{key}_head",
                          extra[0] if extra else "0")
    return layer, head if head in extra else int(head)


def input_tab(r: speech.Transcription) -> None:
    fig = fx.input_figure(r.audio, r.sample_rate, r.features)
    mel = pd.DataFrame(r.features.T, columns=[f"mel_{i}" for i in range(r.features.shape[0])])
    show_figure(fig, "speech-input", data=mel.assign(time_s=np.arange(len(mel)) * fx.MEL_S),
                summary=f"{r.duration_s:.2f} s of speech at 16 kHz → 3,000 mel frames of 10 ms (30 s, the rest "
                        f"zero padding) → after the stride-2 convolution, 1,500 encoder positions of 20 ms; "
                        f"{r.n_frames:,} of them hold audio.")


def encoder_tab(r: speech.Transcription) -> None:
    st.write("The encoder is **bidirectional**: every 20 ms position attends to every other, before and after. "
             "Many heads keep to a narrow diagonal band (local acoustic context).")
    layer, head = _layer_head("enc", r)
    pad = url_toggle("Include the zero padding (all 1,500 positions)", "enc_pad")
    n = 1500 if pad else r.n_frames
    w = r.encoder_attention(layer, head)[:n, :n]
    dist = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]) * FRAME_S * 1000
    mean_ms = float((w / w.sum(-1, keepdims=True) * dist).sum(-1).mean())
    fig = figs.head_heatmap(w, fx.frame_labels(n), title=f"encoder layer {layer} head {head}: position × position")
    rows = pd.DataFrame({"query_position": np.arange(n), "time_s": np.arange(n) * FRAME_S,
                         "argmax_key": w.argmax(-1), "max_weight": w.max(-1)})
    show_figure(fig, "speech-encoder-attention", data=rows,
                summary=f"{n:,} × {n:,} weights, drawn as block maxima. A query's weight lies on average "
                        f"{mean_ms:,.0f} ms from it; above the diagonal (the future) it holds "
                        f"{float(np.triu(w, 1).sum() / n):.0%} of its weight.")


def decoder_tab(r: speech.Transcription) -> None:
    st.write("The decoder's self-attention over the text is **causal**, as in any GPT: the mask drawn is the "
             "one the weights were computed under (the causal page shows the same views on SmolLM2).")
    layer, head = _layer_head("dec", r)
    n = len(r.decoder_tokens)
    mask = r.model.adapter.mask(layer, n).numpy()
    w = r.decoder_attention[layer, head]
    mats = {"causal mask (the one used)": mask, f"weights, layer {layer} head {head}": w}
    show_figure(figs.panels(mats, r.decoder_tokens, zrange=(0, 1), height=520), "speech-decoder-attention",
                data=pd.DataFrame({k: v.ravel() for k, v in mats.items()}),
                summary=f"{n} decoder inputs (the two prompt tokens, then the transcript). Largest weight above "
                        f"the diagonal: {float(np.triu(w, 1).max()):.1g}; the first token gets "
                        f"{float(w[1:, 0].mean()):.0%} of the later rows' weight on average.")


def _cross(r: speech.Transcription, layer: int, head: int | str, rows: slice) -> np.ndarray:
    """(token, frame) over the audio's frames, one head or the alignment heads' mean."""
    c = r.step_cross_attention[..., rows, : r.n_frames]
    return c[layer, head] if head != ALIGN else np.mean([c[lh] for lh in r.alignment_heads], axis=0)


def cross_tab(r: speech.Transcription) -> None:
    st.write("**Cross-attention** is where text meets audio: each generated token's query reads keys and values "
             "computed from the encoder's output. Its weights over time form an alignment image.")
    layer, head = _layer_head("cross", r, (ALIGN,))
    al = r.alignment
    w = _cross(r, layer, head, slice(0, len(r.tokens)))
    name = f"layer {layer} head {head}" if head != ALIGN else "the mean of the alignment heads " + \
        ", ".join(f"L{a}H{b}" for a, b in r.alignment_heads)
    show_figure(fx.alignment_image(w, r.tokens, FRAME_S, path=al, title=f"cross-attention, {name}"),
                "speech-cross-attention",
                data=pd.DataFrame(w, columns=[f"{i * FRAME_S:.2f}s" for i in range(w.shape[1])]).assign(token=r.tokens),
                summary="Orange: the token-to-time alignment, as Whisper's word timestamps compute it: dynamic "
                        "time warping over the alignment heads' cross-attention (standardised, median-filtered; "
                        "implemented in core.speech.alignment after openai-whisper's timing.py).")
    show_table(al.round(2), "speech-alignment", summary="Token start and end times from the DTW path.")
    pick = st.selectbox("Play one token's audio", range(len(r.tokens)), format_func=lambda i: f"{i}: {r.tokens[i]!r} "
                        f"({al.start_s.iloc[i]:.2f}–{al.end_s.iloc[i]:.2f} s)", key="speech_play")
    st.audio(r.segment(pick), sample_rate=r.sample_rate)


def steps_tab(r: speech.Transcription) -> None:
    st.write("Greedy decoding: at each step the model reads the tokens so far and the whole encoder output, and "
             "the most likely token is appended. The first step cannot choose a blank or the end; special and "
             "timestamp tokens are masked, as Whisper does without timestamps.")
    k = url_slider("Step", "step", 0, len(r.steps) - 1, 0)
    s = r.steps[k]
    layer, head = _layer_head("step", r, (ALIGN,))
    cross = _cross(r, layer, head, slice(k, k + 1))[0]
    show_figure(fx.step_figure(s.top, s.token, cross, FRAME_S, k), "speech-step",
                data=pd.DataFrame(s.top, columns=["token", "probability"]),
                summary=f"Step {k} of {len(r.steps)}: “{s.token}” with p = {s.top[0][1]:.2f}; this step's "
                        f"cross-attention peaks at {float(cross.argmax() * FRAME_S):.2f} s.")
    show_table(pd.DataFrame([{"step": i, "chosen": st_.token, "p": round(st_.top[0][1], 3),
                              "runner-up": st_.top[1][0], "p2": round(st_.top[1][1], 3)}
                             for i, st_ in enumerate(r.steps)]), "speech-steps")
