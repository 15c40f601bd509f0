"""Whisper tiny.en (core.speech, core.runtime.ctranslate2, the Whisper adapter): the CTranslate2 reader
against the file's own tensor list, the adapter against HF eager on a tiny random config, a real
transcription of espeak-ng speech, the attention invariants, the DTW alignment, and bad audio."""
import io

import numpy as np
import pytest
import soundfile as sf
import torch

import core.speech as speech
from core.runtime import ctranslate2 as ct2
from core.runtime.adapters.whisper import WhisperAdapter
from core.runtime.errors import InputError, ModelUnavailable
from core.speech import alignment
from core.speech.audio import to_16k

SENTENCE = "The quick brown fox jumps over the lazy dog. Transformers use attention to mix information between tokens."


# --------------------------------------------------------------------------- the loader

@pytest.fixture(scope="module")
def ct2_file():
    return ct2.read_model_bin(ct2.source_dir() / "model.bin")


@pytest.fixture(scope="module")
def expected():
    from transformers import WhisperForConditionalGeneration
    m = WhisperForConditionalGeneration(ct2.config())
    return {k: tuple(t.shape) for k, t in m.state_dict().items()}


def test_reader_maps_every_tensor_of_the_file(ct2_file, expected):
    header, variables = ct2_file
    assert header["spec"] == "WhisperSpec" and header["version"] in ct2.SUPPORTED_VERSIONS
    tensors = {k for k, v in variables.items() if v.ndim}
    encoder = 4 + 1 + 2 + 4 * 12              # 2 convs, positions, final norm, 4 x (2 norms, qkv, out, fc1, fc2)
    decoder = 1 + 1 + 2 + 4 * 20 + 1          # embedding, positions, final norm, + cross q, kv, out, norm; alias
    assert len(tensors) == encoder + decoder
    assert variables["decoder/projection/weight"] is variables["decoder/embeddings/weight"]      # the alias
    state = ct2._state_from_ct2(variables, expected)
    assert set(expected) - set(state) == {"proj_out.weight"}                                  # tied
    qkv = variables["encoder/layer_2/self_attention/linear_0/weight"].astype(np.float32)
    assert np.array_equal(state["model.encoder.layers.2.self_attn.v_proj.weight"].numpy(), qkv[768:])
    kv = variables["decoder/layer_1/attention/linear_1/weight"].astype(np.float32)
    assert np.array_equal(state["model.decoder.layers.1.encoder_attn.k_proj.weight"].numpy(), kv[:384])


def test_missing_or_misshapen_tensor_fails_naming_it(ct2_file, expected):
    _, variables = ct2_file
    gone = {k: v for k, v in variables.items() if k != "decoder/layer_3/ffn/linear_0/bias"}
    with pytest.raises(ModelUnavailable, match="decoder/layer_3/ffn/linear_0/bias"):
        ct2._state_from_ct2(gone, expected)
    bent = dict(variables, **{"encoder/conv2/weight": np.zeros((384, 384, 5), np.float16)})
    with pytest.raises(ModelUnavailable, match=r"encoder/conv2/weight.*\(384, 384, 5\)"):
        ct2._state_from_ct2(bent, expected)
    extra = dict(variables, **{"decoder/layer_9/ffn/linear_0/bias": np.zeros(3, np.float16)})
    with pytest.raises(ModelUnavailable, match="unused tensors.*layer_9"):
        ct2._state_from_ct2(extra, expected)


def test_unknown_format_version_is_refused(tmp_path):
    (tmp_path / "model.bin").write_bytes((99).to_bytes(4, "little") + b"\0" * 16)
    with pytest.raises(ModelUnavailable, match="version 99"):
        ct2.read_model_bin(tmp_path / "model.bin")


# --------------------------------------------------------------------------- the adapter, tiny config

def test_adapter_matches_hf_eager_on_a_tiny_config():
    from transformers import WhisperConfig, WhisperForConditionalGeneration
    torch.manual_seed(0)
    cfg = WhisperConfig(vocab_size=100, num_mel_bins=8, d_model=32, encoder_layers=2, decoder_layers=2,
                        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
                        decoder_ffn_dim=64, max_source_positions=20, max_target_positions=16,
                        decoder_start_token_id=1, pad_token_id=0, bos_token_id=0, eos_token_id=0)
    m = WhisperForConditionalGeneration._from_config(cfg, attn_implementation="eager").eval()
    ad = WhisperAdapter(m, cfg)
    feats, ids = torch.randn(1, 8, 40), torch.tensor([[1, 5, 7, 9, 11]])
    with torch.no_grad():
        out = m(input_features=feats, decoder_input_ids=ids, output_attentions=True, output_hidden_states=True)
        h = ad.embed_audio(feats[0])
        assert torch.allclose(h, out.encoder_hidden_states[0][0], atol=1e-5)
        for i in range(2):
            assert torch.allclose(ad.encoder_weights(h, i), out.encoder_attentions[i][0], atol=1e-5)
            h = ad.encoder_block(h, i)
        enc = ad.encoder_final(h)
        assert torch.allclose(enc, out.encoder_last_hidden_state[0], atol=1e-5)
        d = out.decoder_hidden_states[0][0]
        for i in range(2):
            lo = ad.decoder_layer(d, enc, i)
            assert torch.allclose(lo.self_weights, out.decoder_attentions[i][0], atol=1e-5)
            assert torch.allclose(lo.cross_weights, out.cross_attentions[i][0], atol=1e-5)
            d = lo.out
        assert torch.allclose(ad.logits(d), out.logits[0], atol=1e-4)
    arch = ad.architecture()
    assert [s.name for s in arch.stacks] == ["encoder", "decoder"] and arch.stacks[1].reads == "encoder"
    assert "cross_attention" in [p.kind for p in arch.stacks[1].block]


# --------------------------------------------------------------------------- the real model

@pytest.fixture(scope="module")
def spoken():
    return speech.speak(SENTENCE)


@pytest.fixture(scope="module")
def result(spoken):
    return speech.transcribe(*spoken)


def _words(s):
    return [w.strip(".,").lower() for w in s.split()]


def test_speak_makes_float32_mono(spoken):
    audio, sr = spoken
    assert audio.dtype == np.float32 and audio.ndim == 1 and sr > 8000 and 4 < audio.shape[0] / sr < 15


def test_transcription_contains_most_words(result):
    said, heard = _words(SENTENCE), set(_words(result.text))
    assert sum(w in heard for w in said) / len(said) >= 0.7, result.text
    assert result.tokens and len(result.tokens) == len(result.ids) and "".join(result.tokens).strip() == result.text


def test_cross_attention_rows_sum_to_one(result):
    ca = result.cross_attention
    assert ca.shape == (4, 6, len(result.tokens), 1500)
    assert np.allclose(ca.sum(-1), 1, atol=1e-4) and (ca >= 0).all()


def test_decoder_self_attention_is_causal(result):
    da = result.decoder_attention
    n = len(result.decoder_tokens)
    assert da.shape == (4, 6, n, n)
    assert np.triu(da, k=1).max() == 0 and np.allclose(da.sum(-1), 1, atol=1e-4)
    assert (np.tril(da).min(axis=(0, 1)) >= 0).all() and da[:, :, -1, 0].max() > 0      # rows see the past


def test_encoder_attention_is_bidirectional(result):
    w = result.encoder_attention(1, 2)
    assert w.shape == (1500, 1500) and np.allclose(w.sum(-1), 1, atol=1e-4) and np.triu(w, 1).sum() > 1


def test_alignment_is_monotonic_and_inside_the_audio(result):
    al = result.alignment
    assert list(al.columns) == ["token", "start_s", "end_s"] and list(al.token) == result.tokens
    assert (np.diff(al.start_s) >= 0).all() and (al.end_s >= al.start_s).all()
    assert al.end_s.iloc[-1] <= result.duration_s + 0.1 and al.start_s.iloc[-1] > 0.5 * result.duration_s


def test_dtw_finds_the_diagonal():
    cost = np.ones((3, 6))
    cost[0, :2] = cost[1, 2:4] = cost[2, 4:] = 0
    rows, cols = alignment.dtw(cost)
    assert list(rows) == [0, 0, 1, 1, 2, 2] and list(cols) == [0, 1, 2, 3, 4, 5]


def test_any_sample_rate_is_resampled(spoken):
    from scipy.signal import resample_poly
    audio, sr = spoken
    a8 = resample_poly(audio, 8000, sr).astype(np.float32)
    out = to_16k(a8, 8000)
    assert abs(out.shape[0] - audio.shape[0] * 16000 / sr) < 20


# --------------------------------------------------------------------------- bad audio

def _wav(samples, sr=16000, fmt="WAV"):
    buf = io.BytesIO()
    sf.write(buf, samples, sr, format=fmt)
    return buf.getvalue()


def test_bad_audio_gets_a_clear_message():
    with pytest.raises(InputError, match="silent"):
        speech.transcribe(np.zeros(16000, np.float32), 16000)
    with pytest.raises(InputError, match="empty"):
        speech.decode(b"")
    with pytest.raises(InputError, match="not an audio file"):
        speech.decode(b"hello, this is a text file\n" * 20)
    with pytest.raises(InputError, match="corrupt"):
        speech.decode(_wav(np.zeros(100, np.float32))[:30] + b"\x00garbage")
    with pytest.raises(InputError, match="empty or too short"):
        speech.transcribe(np.zeros(0, np.float32), 16000)
    with pytest.raises(InputError, match=r"31\.0 s long; the limit is 30 s"):
        speech.transcribe(np.full(31 * 16000, 0.1, np.float32), 16000)


def test_flac_and_mp3_decode():
    tone = (0.3 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000)).astype(np.float32)
    for fmt in ("FLAC", "MP3"):
        a, sr = speech.decode(_wav(tone, fmt=fmt))
        assert sr == 16000 and abs(a.shape[0] - 16000) < 2000 and np.abs(a).max() > 0.1
