"""One way to show a token as text, used by pills, bars, tables and axes everywhere.

A token's decoded text is often invisible or broken on screen: a leading space, a newline, a tab,
or a piece of a multi-byte character (byte-level BPE and SentencePiece byte fallback split "æ" into
0xC3 0xA6; decoded alone, each is "�"). ``label`` makes all of them visible:

- space -> ·, newline -> ↵, tab -> ⇥, carriage return -> ␍, other control and bidi-override
  characters -> ⟨U+202E⟩, the empty token -> ∅;
- a byte that is not a whole UTF-8 character -> ⟨0xE6⟩, recovered from the raw vocabulary piece
  (GPT-2's byte-to-unicode alphabet, ``<0xE6>`` pieces) when one is given;
- optionally the id inline: ``·Paris [7042]``.

Plain text out; ``html=True`` escapes it for plotly labels and HTML.
"""
from __future__ import annotations

import codecs
import functools
import html as _html
import re

REPLACEMENT = "\ufffd"
_SHOWN = {" ": "·", "\n": "↵", "\t": "⇥", "\r": "␍"}
_BIDI = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


def _visible_bytes(err: UnicodeDecodeError):
    return "".join(f"⟨0x{b:02X}⟩" for b in err.object[err.start:err.end]), err.end


codecs.register_error("atlas-visible-bytes", _visible_bytes)


@functools.lru_cache(maxsize=1)
def _unicode_to_byte() -> dict[str, int]:
    """The inverse of GPT-2's bytes_to_unicode (Radford et al. 2019, encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def is_byte_piece(piece: str | None) -> bool:
    """A SentencePiece byte-fallback piece (``<0xE6>``), one or several in a row."""
    return bool(piece) and re.fullmatch(r"(?:<0x[0-9A-Fa-f]{2}>)+", piece) is not None


def piece_bytes(piece: str | None) -> bytes | None:
    """The raw bytes of a vocabulary piece when they can be read off it: SentencePiece byte
    fallback (``<0xE6>``) or byte-level BPE (``Ã¦``, ``Ġ``; CLIP's ``</w>`` end marker dropped);
    else None."""
    if not piece:
        return None
    if is_byte_piece(piece):
        return bytes(int(h, 16) for h in _BYTE_PIECE.findall(piece))
    piece = piece.removesuffix("</w>")
    table = _unicode_to_byte()
    if all(ch in table for ch in piece):
        return bytes(table[ch] for ch in piece)
    return None


def bytes_text(raw: bytes) -> str:
    """Bytes as text, each byte that is not part of a whole UTF-8 character shown as ⟨0xNN⟩."""
    return raw.decode("utf-8", errors="atlas-visible-bytes")


def token_text(decoded: str, piece: str | None = None) -> str:
    """The token's text with a "�" from a partial character replaced by its bytes (⟨0xE6⟩) when
    the piece gives them (also an empty SentencePiece byte piece); a real U+FFFD stays as it is."""
    if REPLACEMENT not in decoded and not (decoded == "" and is_byte_piece(piece)):
        return decoded
    raw = piece_bytes(piece)
    if raw is None:
        return decoded
    text = bytes_text(raw)
    return text if "⟨0x" in text or not decoded else decoded


def decode_one(tokenizer, token_id: int) -> str:
    """One id decoded alone by a Hugging Face tokenizer, a partial character's bytes as ⟨0xE6⟩."""
    return token_text(tokenizer.decode([int(token_id)]), tokenizer.convert_ids_to_tokens(int(token_id)))


def visible(text: str) -> str:
    """Whitespace and control characters made visible; the empty string as ∅."""
    out = []
    for ch in text:
        if ch in _SHOWN:
            out.append(_SHOWN[ch])
        elif ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in _BIDI:
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out) or "∅"


def label(token: str, *, piece: str | None = None, token_id: int | None = None, show_id: bool = False,
          html: bool = False, max_chars: int | None = None) -> str:
    """The one label of a token: bytes recovered, whitespace visible, optionally its id inline and
    cut to ``max_chars`` (with …); ``html`` escapes <, > and & for plotly and HTML."""
    out = visible(token_text(token, piece))
    if max_chars is not None and len(out) > max_chars:
        out = out[:max_chars - 1] + "…"
    if show_id and token_id is not None:
        out = f"{out} [{token_id}]"
    return _html.escape(out, quote=False) if html else out


def labels(tokens, *, pieces=None, ids=None, show_id: bool = False, html: bool = False,
           numbered: bool = False, start: int = 0) -> list[str]:
    """``label`` for a sequence; ``numbered`` prefixes each with its position (``3:·Paris``), which
    also keeps repeated tokens distinct on a plotly axis."""
    out = []
    for i, tok in enumerate(tokens):
        text = label(tok, piece=pieces[i] if pieces else None, token_id=ids[i] if ids else None,
                     show_id=show_id, html=html)
        out.append(f"{start + i}:{text}" if numbered else text)
    return out
