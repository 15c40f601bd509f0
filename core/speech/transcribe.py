"""Speech to aligned text with Whisper tiny.en: greedy decoding with the top-5 at each step, then one
teacher-forced pass whose attention (encoder self, decoder self, cross) is computed by the Whisper
adapter (``core.runtime.adapters.whisper``) from the hidden states; nothing is hooked or stored on the
shared model.

Decoding follows Whisper (Radford et al. 2022): prompt ``<|startoftranscript|><|notimestamps|>``,
greedy, the model's suppressed tokens masked (and a blank or end at the first step), every special
token but ``<|endoftext|>`` masked, at most 224 tokens.

Shapes: cross_attention (layer, head, token, frame); decoder_attention (layer, head, q_pos, k_pos) over
the decoder's input; encoder_attention(layer, head) (frame, frame); a frame is 20 ms.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from core.runtime import ctranslate2, models
from core.runtime.adapters.whisper import FRAME_S
from core.speech.alignment import align
from core.speech.audio import SAMPLE_RATE, log_mel, to_16k
from core.text.token_labels import token_text

MODEL = ctranslate2.NAME
SOT, NO_TIMESTAMPS, EOT = 50257, 50362, 50256
MAX_NEW = 224
TOP_K = 5


@dataclass(frozen=True)
class Step:
    """One greedy decoding step: the token it chose and the five most likely, with probabilities."""
    token: str
    id: int
    top: list[tuple[str, float]]


@dataclass(frozen=True, eq=False)
class Transcription:
    model: models.LoadedModel = field(repr=False)
    text: str
    ids: list[int]                        # generated text tokens (no specials)
    tokens: list[str]                     # each decoded to text
    audio: np.ndarray = field(repr=False)      # (sample,) float32 at 16 kHz
    features: np.ndarray = field(repr=False)   # (mel, 3000) log-mel
    decoder_tokens: list[str] = field(repr=False)           # the decoder input: SOT, no-timestamps, tokens
    decoder_attention: np.ndarray = field(repr=False)       # (layer, head, q_pos, k_pos)
    cross_full: np.ndarray = field(repr=False)              # (layer, head, q_pos, frame) over the decoder input
    encoder_states: tuple[torch.Tensor, ...] = field(repr=False)  # (frame, d_model) entering each encoder layer
    steps: list[Step] = field(repr=False)
    alignment_heads: list[tuple[int, int]] = field(repr=False)
    sample_rate: int = SAMPLE_RATE
    chunks: tuple = ()                    # always one window: longer audio is refused, never split

    @property
    def duration_s(self) -> float:
        return self.audio.shape[0] / self.sample_rate

    @property
    def n_frames(self) -> int:
        """Encoder frames that hold audio; the rest of the 1,500 are padding."""
        return min(self.cross_full.shape[-1], int(np.ceil(self.duration_s / FRAME_S)))

    @property
    def cross_attention(self) -> np.ndarray:
        """(layer, head, token, frame): row k is the step that generated token k, over all 1,500 frames."""
        return self.cross_full[:, :, 1:1 + len(self.ids)]

    @property
    def step_cross_attention(self) -> np.ndarray:
        """(layer, head, step, frame): every step, the last one choosing <|endoftext|>."""
        return self.cross_full[:, :, 1:]

    def encoder_attention(self, layer: int, head: int) -> np.ndarray:
        """(frame, frame) weights of one encoder head, computed on demand."""
        ad = self.model.adapter
        with torch.inference_mode():
            return ad.encoder_weights(self.encoder_states[layer], layer, [head])[0].cpu().numpy()

    @functools.cached_property
    def alignment(self) -> pd.DataFrame:
        """token, start_s, end_s by DTW over the alignment heads' cross-attention."""
        return align(self.cross_full, self.alignment_heads, self.n_frames, self.tokens, FRAME_S)

    def segment(self, token: int) -> np.ndarray:
        """The audio samples aligned to generated token ``token``."""
        row = self.alignment.iloc[token]
        a, b = (int(round(t * self.sample_rate)) for t in (row.start_s, row.end_s))
        return self.audio[a:max(b, a + 1)]


def load() -> models.LoadedModel:
    return models.load(MODEL)


@functools.lru_cache(maxsize=2)
def _suppressed(path: str, vocab: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Bool (vocab,) masks: suppressed at every step, and additionally at the first step."""
    cfg = json.loads((Path(path) / "decoding.json").read_text())
    always = torch.zeros(vocab, dtype=torch.bool)
    always[cfg["suppress_ids"]] = True
    always[SOT:] = True                                   # every special and timestamp token ...
    first = always.clone()
    first[cfg["suppress_ids_begin"]] = True               # ... a blank or <|endoftext|> first
    return always, first


def _label(tok, i: int) -> str:
    return token_text(tok.decode([i]), tok.convert_ids_to_tokens(i))


@torch.inference_mode()
def transcribe(samples: np.ndarray, sample_rate: int, *, max_new_tokens: int = MAX_NEW) -> Transcription:
    """Transcribe mono (or (sample, channel)) audio at any sample rate, at most 30 s."""
    lm = load()
    a16 = to_16k(samples, sample_rate)
    feats = log_mel(a16)
    ad, m, tok, dev = lm.adapter, lm.model, lm.tokenizer, lm.device
    x = torch.from_numpy(feats).to(dev, lm.dtype)
    enc = m.model.encoder(x[None], output_hidden_states=True)
    enc_out = enc.last_hidden_state                                   # (1, frame, d_model)
    always, first = (t.to(dev) for t in _suppressed(str(ctranslate2.whisper_dir()), m.config.vocab_size))
    ids, steps, past = [SOT, NO_TIMESTAMPS], [], None
    nxt = torch.tensor([ids], device=dev)
    for step in range(max_new_tokens):
        out = m(encoder_outputs=(enc_out,), decoder_input_ids=nxt, past_key_values=past, use_cache=True)
        past = out.past_key_values
        logits = out.logits[0, -1].float().masked_fill(first if step == 0 else always, float("-inf"))
        p = torch.softmax(logits, -1)
        top_p, top_i = p.topk(TOP_K)
        choice = int(top_i[0])
        steps.append(Step(_label(tok, choice), choice,
                          [(_label(tok, int(i)), float(q)) for i, q in zip(top_i, top_p)]))
        if choice == EOT:
            break
        ids.append(choice)
        nxt = torch.tensor([[choice]], device=dev)
    full = torch.tensor([ids], device=dev)
    dec = m.model.decoder(input_ids=full, encoder_hidden_states=enc_out, output_hidden_states=True)
    e = enc_out[0]
    layers = [ad.decoder_layer(h[0], e, i) for i, h in enumerate(dec.hidden_states[:-1])]
    text_ids = ids[2:]
    return Transcription(
        model=lm, text=tok.decode(text_ids, skip_special_tokens=True).strip(), ids=text_ids,
        tokens=[_label(tok, i) for i in text_ids], audio=a16, features=feats,
        decoder_tokens=[_label(tok, i) for i in ids],
        decoder_attention=torch.stack([o.self_weights for o in layers]).cpu().numpy(),
        cross_full=torch.stack([o.cross_weights for o in layers]).cpu().numpy(),
        encoder_states=tuple(h[0] for h in enc.hidden_states[:-1]), steps=steps,
        alignment_heads=[tuple(h) for h in json.loads((ctranslate2.whisper_dir() / "decoding.json").read_text())
                         ["alignment_heads"]])
