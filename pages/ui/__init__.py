"""Shared UI pieces every page uses: URL-synced widgets, figure export, pickers, messages.

Pages import from here rather than calling Streamlit widgets for their main controls, so every
view round-trips through the URL and every figure exports the same way.

The names are imported on first use (PEP 562): app.py imports ``pages.ui.nav`` to draw the
navigation, and that must not pull torch in through the model picker before a page can paint.
"""
import importlib

_WHERE = {"show_figure": "export", "show_table": "export", "bad_input": "messages", "guard": "messages",
          "model_picker": "picker", "tokenizer_picker": "picker",
          **{n: "state" for n in ("url_multiselect", "url_number", "url_select", "url_slider", "url_tabs",
                                  "url_text", "url_toggle")}}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'pages.ui' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pages.ui.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
