"""Encoder–decoder & cross-attention: Whisper tiny.en from speech to aligned text. Tab bodies and the
cached core calls: pages.ui.speech_tabs; maths: core.speech and the Whisper adapter; figures:
core.figures.speech."""
import streamlit as st

from core.runtime import limits
from pages.ui import guard, url_select, url_tabs, url_text
from pages.ui import speech_tabs as tabs

DEFAULT = "The quick brown fox jumps over the lazy dog. Transformers use attention to mix information between tokens."
SOURCES = ["Typed text (espeak-ng)", "Upload a file", "Microphone"]

st.title("Encoder–decoder & cross-attention")
st.write("The original Transformer (Vaswani et al. 2017) has two stacks: an **encoder** that reads the whole input "
         "bidirectionally, and a **decoder** that writes the output one token at a time with masked self-attention "
         "plus **cross-attention** to the encoder. Whisper tiny.en (Radford et al. 2022) is exactly that, with "
         "speech in and text out: 4 + 4 layers, width 384, 6 heads, 37.8M parameters, running here.")
lim = limits.current()
source = url_select("Speech from", SOURCES, "source", SOURCES[0], radio=True,
                    help="Typed text travels in the link; an upload or a recording does not.")
result = None
with guard("the transcription"):
    if source == SOURCES[0]:
        text = url_text("Text to speak", "say", DEFAULT, area=True, height=80)
        st.caption("Spoken by espeak-ng, a formant synthesiser: the voice is robotic, so Whisper mishears some words "
                   "a person would not.")
        result = tabs.transcribe_text(text)
    else:
        cap = f"at most {min(30.0, lim.max_audio_s):.0f} s and {lim.max_upload_bytes / 2**20:.0f} MB" + \
              (" in hosted mode" if limits.hosted() else "")
        if source == SOURCES[1]:
            up = st.file_uploader(f"A speech recording (WAV, FLAC, MP3 or OGG; {cap})",
                                  type=["wav", "flac", "mp3", "ogg"], key="speech_upload")
        else:
            up = st.audio_input(f"Record some English speech ({cap})", key="speech_mic")
        if up is None:
            st.info("Waiting for audio. Nothing leaves this machine: the model runs here, offline.")
        else:
            result = tabs.transcribe_bytes(up.getvalue(), "upload" if source == SOURCES[1] else "recording")

if result is not None:
    st.audio(result.audio, sample_rate=result.sample_rate)
    st.markdown(f"**Transcript** ({len(result.tokens)} tokens, {result.duration_s:.1f} s): {result.text or '(nothing)'}")
    url_tabs([("Encoder input", "the encoder input", lambda: tabs.input_tab(result)),
              ("Encoder self-attention", "the encoder self-attention", lambda: tabs.encoder_tab(result)),
              ("Decoder self-attention", "the decoder self-attention", lambda: tabs.decoder_tab(result)),
              ("Cross-attention", "the cross-attention", lambda: tabs.cross_tab(result)),
              ("Step-by-step decoding", "the decoding steps", lambda: tabs.steps_tab(result))])
