"""Speech: Whisper tiny.en as an encoder-decoder, offline. The stable notebook API:

    audio, sr = core.speech.speak("Attention is all you need.")       # espeak-ng, float32 mono
    r = core.speech.transcribe(audio, sr)                              # any sample rate, <= 30 s
    r.text, r.tokens, r.cross_attention, r.decoder_attention, r.encoder_attention(0, 0), r.alignment
"""
from core.speech.audio import SAMPLE_RATE, WINDOW_S, decode, speak  # noqa: F401
from core.speech.transcribe import Step, Transcription, transcribe  # noqa: F401
