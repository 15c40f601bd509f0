"""Token pills: every token labelled by core.text.token_labels (whitespace, newlines and partial
bytes visible), escaped, coloured, with id and span on hover and, optionally, the id inline."""
from __future__ import annotations

import html

import streamlit as st

from core.figures.theme import token_colour
from core.text.token_labels import label, visible  # noqa: F401  (visible: the label without bytes or ids)

_PILL = ("<span title='{title}' style='background:{bg};border:1px solid rgba(0,0,0,.18);"
         "border-radius:6px;padding:1px 4px;margin:1px;display:inline-block;"
         "font-family:ui-monospace,monospace;white-space:pre;line-height:1.9'>{text}{id}</span>")
_ID = "<sub style='color:#555;font-size:.72em;margin-left:2px'>{id}</sub>"


def pills_html(tokens: list[str], ids: list[int], spans: list[tuple[int, int]] | None = None,
               pieces: list[str] | None = None, show_ids: bool = False) -> str:
    parts = []
    for i, (tok, tid) in enumerate(zip(tokens, ids)):
        span = f" chars {spans[i][0]}–{spans[i][1]}" if spans else ""
        piece = pieces[i] if pieces else None
        raw = f" piece {piece!r}" if piece is not None and piece != tok else ""
        title = html.escape(f"#{i} id {tid}{span}: {tok!r}{raw}", quote=True)
        parts.append(_PILL.format(title=title, bg=token_colour(i), text=label(tok, piece=piece, html=True),
                                  id=_ID.format(id=tid) if show_ids else ""))
    return "<div dir='ltr' style='line-height:2.1'>" + "".join(parts) + "</div>"


def show_pills(tokens: list[str], ids: list[int], spans=None, *, pieces: list[str] | None = None,
               limit: int = 2000, show_ids: bool = False) -> None:
    """Render pills, ids inline with ``show_ids`` (always on hover); beyond ``limit`` tokens say
    how many are not drawn (the table has all)."""
    st.html(pills_html(tokens[:limit], ids[:limit], spans[:limit] if spans else None,
                        pieces[:limit] if pieces else None, show_ids))
    if len(tokens) > limit:
        st.caption(f"Showing the first {limit:,} of {len(tokens):,} tokens as pills; "
                   "the table and CSV hold all of them.")
