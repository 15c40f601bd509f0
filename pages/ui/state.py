"""URL state: widgets whose values round-trip through ``st.query_params``.

Each ``url_*`` helper reads its initial value from the link (validated: a hand-edited link with
an out-of-range or malformed value falls back to the default with a visible note, never a
crash), renders the widget, and writes the current value back, so a copied URL reproduces
the view. Session state owns the value after the first run.
"""
from __future__ import annotations

import base64
import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from pages.ui.messages import bad_input, guard

PAGE_KEY = "atlas:page"     # set by app.py to the running page's url path


def session_key(key: str, page: str | None = None) -> str:
    """Session-state key of a URL widget, scoped to its page so equal URL keys on two pages
    (``text`` on home and on causal) never share a value when the user navigates."""
    page = st.session_state.get(PAGE_KEY, "") if page is None else page
    return f"url:{page}:{key}"


def _initial(key: str, default: Any, parse: Callable[[str], Any]) -> None:
    """Seed session state from the URL once per widget lifetime."""
    skey = session_key(key)
    if skey in st.session_state:
        return
    raw = st.query_params.get(key)
    value = default
    if raw is not None:
        try:
            value = parse(raw)
        except (ValueError, TypeError) as exc:
            bad_input(f"The link's value for “{key}” ({raw[:80]!r}) was ignored: {exc}. "
                      f"Using the default ({default!r}).")
    st.session_state[skey] = value


def _publish(key: str, text: str) -> None:
    if st.query_params.get(key) != text:
        st.query_params[key] = text


PLAIN_MAX = 1500           # characters of text carried as they are in the link
LINK_CAP = 8000            # characters a compressed text may take in the link (proxies cut ~8 KB URLs)
ZIP = "z1."                # prefix of a compressed value: zlib, then base64url without padding


def pack_text(text: str) -> str | None:
    """The link value for ``text``: itself when short (and not starting with the prefix), else
    zlib + base64url behind ``ZIP``; None when even that is longer than ``LINK_CAP``."""
    if len(text) <= PLAIN_MAX and not text.startswith(ZIP):
        return text
    packed = ZIP + base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")
    return packed if len(packed) <= LINK_CAP else None


def unpack_text(raw: str) -> str:
    """Inverse of ``pack_text``; a damaged compressed value raises ValueError (shown, not a crash)."""
    if not raw.startswith(ZIP):
        return raw
    body = raw[len(ZIP):]
    try:
        return zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))).decode()
    except (ValueError, zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"the compressed text in the link is damaged ({type(exc).__name__})") from None


def url_text(label: str, key: str, default: str = "", *, area: bool = False, height: int | None = None,
             max_chars: int | None = None, help: str | None = None, placeholder: str | None = None) -> str:
    """Text input or text area. ``max_chars`` is a validation cap, reported, never a silent cut.
    A long text travels compressed in the link up to ``LINK_CAP``; beyond it the page says the
    link will open the default instead."""
    _initial(key, default, unpack_text)
    widget = st.text_area if area else st.text_input
    kw = {"height": height} if area and height else {}
    value = widget(label, key=session_key(key), help=help, placeholder=placeholder, **kw)
    packed = pack_text(value)
    if packed is not None:
        _publish(key, packed)
        if packed != value:
            st.caption(f"This {len(value):,}-character text is carried compressed in the link "
                       f"({len(packed):,} of at most {LINK_CAP:,} characters).")
    else:
        if key in st.query_params:
            del st.query_params[key]
        st.caption(f"⚠ This text is too long for a link: {len(value):,} characters compress to more than "
                   f"{LINK_CAP:,}. A copied link will open the default text instead; save the text itself.")
    return value


def url_select(label: str, options: Sequence, key: str, default=None, *, radio: bool = False,
               format_func: Callable = str, horizontal: bool = True, help: str | None = None):
    options = list(options)
    default = options[0] if default is None else default
    by_text = {str(o): o for o in options}

    def parse(raw: str):
        if raw not in by_text:
            raise ValueError(f"not one of {', '.join(list(by_text)[:8])}")
        return by_text[raw]

    _initial(key, default, parse)
    if st.session_state[session_key(key)] not in options:   # options changed under a live session
        st.session_state[session_key(key)] = default
    if radio:
        value = st.radio(label, options, key=session_key(key), format_func=format_func,
                         horizontal=horizontal, help=help)
    else:
        value = st.selectbox(label, options, key=session_key(key), format_func=format_func, help=help)
    _publish(key, str(value))
    return value


def _number_parser(lo, hi, cast):
    def parse(raw: str):
        f = float(raw)
        if not math.isfinite(f):
            raise ValueError("not a finite number")
        if cast is int and f != int(f):
            raise ValueError("not a whole number")
        v = cast(f)
        if not lo <= v <= hi:
            raise ValueError(f"outside {lo}–{hi}")
        return v
    return parse


def url_slider(label: str, key: str, lo, hi, default, *, step=None, help: str | None = None,
               format: str | None = None):
    """Int or float slider (type follows ``default``); link values outside [lo, hi] are refused."""
    cast = float if isinstance(default, float) else int
    lo, hi = cast(lo), cast(hi)
    default = min(max(cast(default), lo), hi)
    _initial(key, default, _number_parser(lo, hi, cast))
    _clamp(key, lo, hi)
    value = st.slider(label, lo, hi, step=step, key=session_key(key), help=help, format=format)
    _publish(key, str(value))
    return value


def url_number(label: str, key: str, lo, hi, default, *, step=None, help: str | None = None,
               format: str | None = None):
    cast = float if isinstance(default, float) else int
    lo, hi = cast(lo), cast(hi)
    _initial(key, cast(default), _number_parser(lo, hi, cast))
    _clamp(key, lo, hi)
    value = st.number_input(label, lo, hi, step=step, key=session_key(key), help=help, format=format)
    _publish(key, str(value))
    return value


def _clamp(key: str, lo, hi) -> None:
    """Bounds can depend on other controls (layer count of the chosen model): keep state inside."""
    skey = session_key(key)
    v = st.session_state[skey]
    if not lo <= v <= hi:
        st.session_state[skey] = min(max(v, lo), hi)


def url_toggle(label: str, key: str, default: bool = False, *, help: str | None = None) -> bool:
    def parse(raw: str) -> bool:
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError("not 1/0")

    _initial(key, default, parse)
    value = st.toggle(label, key=session_key(key), help=help)
    _publish(key, "1" if value else "0")
    return value


def url_multiselect(label: str, options: Sequence, key: str, default: Sequence = (), *,
                    help: str | None = None, max_selections: int | None = None) -> list:
    options = list(options)
    by_text = {str(o): o for o in options}

    def parse(raw: str) -> list:
        parts = [p for p in raw.split("|") if p]
        unknown = [p for p in parts if p not in by_text]
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r}")
        return [by_text[p] for p in parts][: max_selections or None]

    _initial(key, [o for o in default if o in options], parse)
    st.session_state[session_key(key)] = [o for o in st.session_state[session_key(key)] if o in options]
    value = st.multiselect(label, options, key=session_key(key), help=help,
                           max_selections=max_selections)
    _publish(key, "|".join(str(v) for v in value))
    return value


def url_tabs(sections: Sequence[tuple[str, str, Callable[[], None]]], key: str = "tab") -> str:
    """Tabs whose selection is in the link; ``sections`` are (label, what, body). Only the open
    tab's ``body()`` runs (Streamlit's lazy tabs, ``on_change="rerun"``), inside ``guard(what)``.
    Returns the open tab's label."""
    labels = [label for label, _, _ in sections]
    skey = session_key(key)
    first = f"{skey}:link"                     # the link's tab, fixed for the widget's lifetime
    if first not in st.session_state:
        raw = st.query_params.get(key)
        if raw is not None and raw not in labels:
            bad_input(f"The link's value for “{key}” ({raw[:80]!r}) was ignored: not one of "
                      f"{', '.join(labels)}. Showing “{labels[0]}”.")
        st.session_state[first] = raw if raw in labels else labels[0]
    tabs = st.tabs(labels, default=st.session_state[first], key=skey, on_change="rerun")
    open_label = labels[0]
    for tab, (label, what, body) in zip(tabs, sections):
        if tab.open:
            open_label = label
            with tab, guard(what):
                body()
    _publish(key, open_label)
    return open_label
