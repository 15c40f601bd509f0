"""Shared UI pieces every page uses: URL-synced widgets, figure export, pickers, messages.

Pages import from here rather than calling Streamlit widgets for their main controls, so every
view round-trips through the URL and every figure exports the same way.
"""
from pages.ui.export import show_figure, show_table
from pages.ui.messages import bad_input, guard
from pages.ui.picker import model_picker, tokenizer_picker
from pages.ui.state import (url_multiselect, url_number, url_select, url_slider, url_tabs, url_text,
                            url_toggle)

__all__ = ["show_figure", "show_table", "bad_input", "guard", "model_picker", "tokenizer_picker",
           "url_multiselect", "url_number", "url_select", "url_slider", "url_tabs", "url_text", "url_toggle"]
