"""Whisper tiny.en on this CPU (``python -m bench.bench_speech``): the encoder forward, decoding time
per token and the encoder–decoder page's warm rerun, for about 5 s and about 30 s of espeak-ng speech.

Decoding per token is measured through the real ``core.speech.transcribe``: the same clip with
``max_new_tokens`` = 4 and = 16 (both stop before the transcript ends), the difference divided by 12
tokens, so loading, features, the encoder and fixed costs cancel. The teacher-forced attention pass
grows with the tokens too and is included, as a user pays it.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from bench.common import md_table, median_time, write_report

SHORT = "The quick brown fox jumps over the lazy dog. Attention is all you need."
LONG = ("The original transformer has an encoder and a decoder. The encoder reads the whole input at once, and "
        "every position can attend to every other. The decoder writes the output one token at a time. It "
        "attends to the tokens it has written so far, and through cross attention to everything the encoder "
        "produced. Whisper uses exactly this design for speech. Its encoder turns thirty seconds of audio into "
        "fifteen hundred positions, and its decoder writes the words.")


def clips() -> dict[str, tuple[np.ndarray, int]]:
    import core.speech as speech
    out = {}
    for label, text, wpm in (("short", SHORT, 150), ("long", LONG, 175)):
        a, sr = speech.speak(text, words_per_minute=wpm)
        out[f"{a.shape[0] / sr:.1f} s"] = (a, sr)
    return out


def model_rows(repeat: int = 5) -> list[dict]:
    import core.speech as speech
    from core.speech.audio import log_mel, to_16k
    from core.speech.transcribe import load
    lm = load()
    rows = []
    for label, (a, sr) in clips().items():
        x = torch.from_numpy(log_mel(to_16k(a, sr)))[None]

        def encode(x=x):
            with torch.inference_mode():
                lm.model.model.encoder(x)
        t_enc, enc = median_time(encode, repeat=repeat)
        t4, _ = median_time(lambda a=a, sr=sr: speech.transcribe(a, sr, max_new_tokens=4), repeat=repeat)
        t16, _ = median_time(lambda a=a, sr=sr: speech.transcribe(a, sr, max_new_tokens=16), repeat=repeat)
        t_all, _ = median_time(lambda a=a, sr=sr: speech.transcribe(a, sr), repeat=3)
        r = speech.transcribe(a, sr)
        rows.append({"audio": label, "encoder forward (ms)": f"{t_enc * 1e3:.0f}",
                     "encoder min–max (ms)": f"{min(enc) * 1e3:.0f}–{max(enc) * 1e3:.0f}",
                     "decoding per token (ms)": f"{(t16 - t4) / 12 * 1e3:.1f}",
                     "whole transcribe (ms)": f"{t_all * 1e3:.0f}", "tokens": len(r.tokens),
                     "encoder / whole": f"{t_enc / t_all:.0%}"})
    return rows


def page_rows(repeat: int = 5) -> list[dict]:
    from pages.ui.nav import by_url
    from tests.apptest_util import problems, run_page
    rows = []
    for label, text in (("≈5 s", SHORT), ("≈30 s", LONG)):
        for tab in ("Encoder input", "Encoder self-attention", "Cross-attention"):
            t = time.perf_counter()
            at = run_page(by_url("encoder-decoder"), {"say": text, "tab": tab})
            cold = time.perf_counter() - t
            assert problems(at) == [], problems(at)
            med, samples = median_time(at.run, repeat=repeat, warmup=1)
            rows.append({"speech": label, "tab": tab, "first run (s)": f"{cold:.2f}",
                         "warm rerun median (ms)": f"{med * 1e3:.0f}",
                         "warm rerun min–max (ms)": f"{min(samples) * 1e3:.0f}–{max(samples) * 1e3:.0f}"})
    return rows


def main():
    models_ = model_rows()
    pages = page_rows()
    body = f"""
## Whisper tiny.en on CPU

espeak-ng speech of two texts (`bench/bench_speech.py`), float32, medians of 5 after a warm-up. The encoder always
runs on the full 30 s window (3,000 mel frames -> 1,500 positions), so its cost does not depend on the speech's
length; decoding does, through the number of tokens. Per token: (transcribe with 16 new tokens - with 4) / 12.

{md_table(models_)}

## The page's warm rerun

AppTest runs the page once (the first run of the first row also loads the model), then reruns it 5 times with
nothing changed: the transcription comes from `st.cache_resource`; what remains is the open tab's figures
(the encoder tab recomputes one head's 1,500 x 1,500 weights from the cached hidden states) and sending them.

{md_table(pages)}
"""
    return write_report("speech", "Speech (Whisper tiny.en): encoder, decoding and page reruns", body)


if __name__ == "__main__":
    print(main())
