"""One token-label function for pills, bars, tables and axes: whitespace, newlines and partial
bytes visible, ids inline on request, on real tokenizers."""
import pytest

from core.figures import attention as attention_figs
from core.text import token_labels, tokenizers
from core.text.token_labels import label, labels, piece_bytes
from pages.ui.tokens import pills_html


def test_whitespace_control_and_empty_are_visible():
    assert label(" the") == "·the"
    assert label("\n\n") == "↵↵" and label("\t") == "⇥" and label("\r\n") == "␍↵"
    assert label("\u202e") == "⟨U+202E⟩" and label("\x07") == "⟨U+0007⟩"
    assert label("") == "∅"
    assert label(" Paris", token_id=7042, show_id=True) == "·Paris [7042]"
    assert label(" Paris", token_id=7042) == "·Paris"                 # ids only when asked
    assert label("<b>", html=True) == "&lt;b&gt;"
    assert labels(["a", "a"], numbered=True) == ["0:a", "1:a"]       # distinct on a plotly axis


def test_partial_bytes_from_byte_level_and_sentencepiece_pieces():
    # "æ" is C3 A6; byte-level BPE spells the bytes as "Ã" and "¦"; SentencePiece as <0xC3><0xA6>
    assert piece_bytes("Ã¦") == "æ".encode()
    assert label("\ufffd", piece="Ã") == "⟨0xC3⟩"
    assert label("\ufffd", piece="<0xE6>") == "⟨0xE6⟩"
    assert label("\ufffd", piece="Ġæ".replace("æ", "Ã")) == "·⟨0xC3⟩"    # leading space kept
    assert label("\ufffd") == "\ufffd"                                   # no piece: nothing to recover
    assert label("\ufffd", piece="Ã¦") == "\ufffd"                       # whole char: a real U+FFFD


@pytest.mark.parametrize("name", ["gpt2", "cl100k_base", "llama-sentencepiece"])
def test_real_tokenizers_never_show_a_bare_replacement_character(name):
    t = tokenizers.tokenize(name, "漢字 and naïve\n  spaces")
    shown = labels(t.tokens, pieces=t.pieces)
    assert not any("\ufffd" in s for s in shown)
    assert any("⟨0x" in s for s in shown)                               # 漢 is split into its bytes
    assert any("↵" in s for s in shown) and any("·" in s for s in shown)
    joined = b"".join(token_labels.piece_bytes(p) or b"" for p in t.pieces if token_labels.is_byte_piece(p))
    if name == "llama-sentencepiece":
        assert joined.decode() == "漢\n"                                   # byte-fallback pieces: 漢 and the newline


def test_figures_and_pills_use_the_same_label():
    toks = [" a", "\n", "\ufffd"]
    pieces = ["Ġa", "Ċ", "Ã"]
    assert attention_figs.labels([" a", "\n"]) == ["0:·a", "1:↵"]
    html = pills_html(toks, [1, 2, 3], pieces=pieces, show_ids=True)
    assert "·a" in html and "↵" in html and "⟨0xC3⟩" in html and "<sub" in html and ">3</sub>" in html
    assert "<sub" not in pills_html(toks, [1, 2, 3])


def test_single_ids_decoded_for_predictions_show_their_bytes():
    """Predicted next tokens (lens, generation, home's top 10) are decoded one id at a time."""
    from core.runtime import models
    from core.text.token_labels import decode_one
    lm = models.load(models.DEFAULT_CAUSAL)
    ids = lm.tokenizer("漢", add_special_tokens=False)["input_ids"]
    assert [decode_one(lm.tokenizer, i) for i in ids] == ["⟨0xE6⟩", "⟨0xBC⟩", "⟨0xA2⟩"]
    assert decode_one(lm.tokenizer, lm.tokenizer(" Paris", add_special_tokens=False)["input_ids"][0]) == " Paris"
