"""Token pills: every token escaped, coloured, with id and span on hover."""
from __future__ import annotations

import html

import streamlit as st

from core.figures.theme import token_colour

_PILL = ("<span title='{title}' style='background:{bg};border:1px solid rgba(0,0,0,.18);"
         "border-radius:6px;padding:1px 4px;margin:1px;display:inline-block;"
         "font-family:ui-monospace,monospace;white-space:pre;line-height:1.9'>{text}</span>")


def visible(tok: str) -> str:
    """Make whitespace and control characters visible in a pill."""
    out = []
    for ch in tok:
        if ch == " ":
            out.append("·")
        elif ch == "\n":
            out.append("↵")
        elif ch == "\t":
            out.append("⇥")
        elif ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out) or "∅"


def pills_html(tokens: list[str], ids: list[int], spans: list[tuple[int, int]] | None = None) -> str:
    parts = []
    for i, (tok, tid) in enumerate(zip(tokens, ids)):
        span = f" chars {spans[i][0]}–{spans[i][1]}" if spans else ""
        title = html.escape(f"#{i} id {tid}{span}: {tok!r}", quote=True)
        parts.append(_PILL.format(title=title, bg=token_colour(i), text=html.escape(visible(tok))))
    return "<div dir='ltr' style='line-height:2.1'>" + "".join(parts) + "</div>"


def show_pills(tokens: list[str], ids: list[int], spans=None, *, limit: int = 2000) -> None:
    """Render pills; beyond ``limit`` tokens say how many are not drawn (the table has all)."""
    st.html(pills_html(tokens[:limit], ids[:limit], spans[:limit] if spans else None))
    if len(tokens) > limit:
        st.caption(f"Showing the first {limit:,} of {len(tokens):,} tokens as pills; "
                   "the table and CSV hold all of them.")
