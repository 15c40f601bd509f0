"""Hostile strings through every HTML path and the model loader's trust settings (hosted mode
matters most, but none of this may depend on it): token pills and labels, bertviz's offline page,
the tour; trust_remote_code never on."""
from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.attention import bertviz_offline
from core.text.token_labels import labels
from pages.ui.tokens import pills_html
from tests.test_fuzz import HOSTILE  # noqa: F401 - also registers and loads the Hypothesis profile

ROOT = Path(__file__).resolve().parent.parent
ATTACKS = ["<script>alert(1)</script>", "</script><script>alert(1)//", "\"><img src=x onerror=alert(1)>",
           "' onmouseover='alert(1)", "<iframe srcdoc='x'>", "</div><b>bold</b>", "&lt;script&gt;", "<!--", "]]>"]
TAGS = re.compile(r"<\s*/?\s*(script|img|iframe|b)\b", re.I)


def _tags(fragment: str) -> set[str]:
    return {m.group(1).lower() for m in TAGS.finditer(fragment)}


@given(tokens=st.lists(HOSTILE | st.sampled_from(ATTACKS), min_size=1, max_size=12), show_ids=st.booleans())
@settings(max_examples=60)
def test_pills_escape_every_token(tokens, show_ids):
    out = pills_html(tokens, list(range(len(tokens))), pieces=tokens, show_ids=show_ids)
    assert _tags(out) == set(), out[:400]
    assert "onerror=" not in out.replace("onerror=alert", "") or "&quot;" in out or "&#x27;" in out
    for label in labels(tokens, html=True):
        assert "<" not in label and ">" not in label


def test_pill_attributes_cannot_be_broken_out_of():
    out = pills_html(ATTACKS, list(range(len(ATTACKS))))
    for attack in ATTACKS:
        if "&" not in attack:
            assert attack not in out                  # only escaped forms appear
    assert "&amp;lt;script&amp;gt;" in out            # an already-escaped token is shown as typed
    # every attribute value stays quoted: no raw quote characters from tokens inside title='...'
    for title in re.findall(r"title='([^']*)'", out):
        assert '"' not in html.unescape(title) or "&quot;" in title or "&#x27;" in title


@pytest.mark.skipif(bool(bertviz_offline.vendor_missing()), reason="bertviz's JavaScript is not vendored")
@pytest.mark.parametrize("view", ["head", "model"])
def test_bertviz_page_keeps_hostile_tokens_inside_its_json(view):
    """bertviz writes tokens into a <script> as JSON; a token holding </script> must not end that
    script. The offline page escapes <, > and & inside the JSON, and the tokens still read back."""
    from bertviz import head_view, model_view
    tokens = ATTACKS
    n = len(tokens)
    attn = [torch.softmax(torch.randn(1, 2, n, n), -1) for _ in range(2)]
    raw = {"head": head_view, "model": model_view}[view](attn, tokens, html_action="return").data
    page = bertviz_offline.offline(raw)
    params = page[page.rindex("const params = "):]
    params = params[:params.index("\n")]
    assert "</script" not in params.lower() and "<img" not in params.lower() and "<iframe" not in params.lower()
    for layer in bertviz_offline.params_json(page)["attention"]:
        assert layer["left_text"] == tokens and layer["right_text"] == tokens


def test_tour_and_pages_draw_no_unescaped_html():
    """Only two places hand HTML to Streamlit: the pills (escaped above) and the tour's constant
    CSS. Every other string is markdown, which Streamlit escapes; nothing sets unsafe_allow_html."""
    calls = []
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if any(k.arg == "unsafe_allow_html" for k in node.keywords):
                    calls.append(f"{path.relative_to(ROOT)}:{node.lineno} unsafe_allow_html")
                f = node.func
                if isinstance(f, ast.Attribute) and f.attr == "html" and getattr(f.value, "id", "") == "st":
                    arg = ast.unparse(node.args[0]) if node.args else ""
                    calls.append(f"{path.relative_to(ROOT)}:{arg.split('(')[0]}")
    assert sorted(calls) == ["pages/ui/tokens.py:pills_html", "pages/ui/tour.py:PRESENT_CSS"], calls


def test_trust_remote_code_is_never_enabled():
    """Every from_pretrained in ``models._load`` (the one path a user's model name reaches) passes
    trust_remote_code=False explicitly, and nothing in core/, pages/ or deploy/ ever sets it to
    anything else (the bundled GGUF conversion leaves transformers' default, False)."""
    found = []
    for path in [*sorted((ROOT / "core").rglob("*.py")), *sorted((ROOT / "pages").rglob("*.py")),
                 *sorted((ROOT / "deploy").rglob("*.py")), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                found.append((path.name, ast.unparse(node.value)))
            if isinstance(node, ast.FunctionDef) and node.name == "_load" and path.name == "models.py":
                loads = [c for c in ast.walk(node) if isinstance(c, ast.Call)
                         and isinstance(c.func, ast.Attribute) and c.func.attr == "from_pretrained"]
                assert len(loads) >= 3
                for call in loads:
                    assert any(k.arg == "trust_remote_code" for k in call.keywords), ast.unparse(call)
    assert found and all(value == "False" for _, value in found), found
