"""bertviz (Vig 2019, "A multiscale visualization of attention in the Transformer model") offline.

bertviz's ``head_view``/``model_view`` with ``html_action="return"`` produce HTML that loads
require.js, d3 and jQuery from a CDN. Here the three libraries are inlined from the npm copies that
``make vendor`` puts in assets/vendor/node_modules (git-ignored, never committed), so the view
renders with no network. The HTML is also made smaller and safer:
- weights are rounded to 3 decimals before bertviz serialises them;
- bertviz writes its attention JSON twice (a comment in its JS holds the template marker); the copy
  in the comment is dropped;
- ``<``, ``>`` and ``&`` inside the JSON are written as \\u escapes, so a token such as
  ``</script>`` stays text (bertviz draws tokens with d3 ``.text()``);
- the input is capped at ``limits.current().bertviz_max_tokens``: the HTML grows as
  layers x heads x T^2 (measured 13 MB at 64, 52 MB at 128, 212 MB at 256 tokens for MiniLM's 6x12
  heads, 4 GB of browser memory at 256), and layers are limited so layers x heads x T^2 stays within
  what MiniLM's 72 heads need at the cap.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import torch

from core.runtime import limits
from core.runtime import models
from core.attention.heads import layer_weights
from core.runtime.errors import InputError
from core.runtime.paths import ASSETS

VENDOR = ASSETS / "vendor" / "node_modules"
LIBS = {"jquery": "jquery/dist/jquery.min.js", "d3": "d3/dist/d3.min.js", "require": "requirejs/require.js"}
CDN_REQUIRE = re.compile(r'<script src="https://cdnjs\.cloudflare\.com/[^"]*require[^"]*"></script>')
REQUIRE_CONFIG = re.compile(r"require\.config\(\{\s*paths:\s*\{[^}]*\}\s*\}\);", re.S)
BUDGET_HEADS = 6 * 12          # MiniLM's heads: the layer budget is 72 heads x cap^2 weights


@dataclass(frozen=True)
class Embed:
    html: str
    view: str                  # "head" or "model"
    layers: list[int]          # layers included
    n_tokens: int

    @property
    def n_bytes(self) -> int:
        return len(self.html.encode())


def vendor_missing() -> list[str]:
    return [p for p in LIBS.values() if not (VENDOR / p).exists()]


def check_cap(n_tokens: int) -> None:
    cap = limits.current().bertviz_max_tokens
    if n_tokens > cap:
        raise InputError(
            f"bertviz is offered up to {cap} tokens; this input has {n_tokens:,}. bertviz ships every "
            "weight of every head to the browser as text and draws each as an SVG line: measured here "
            "for MiniLM (6 layers x 12 heads) that is 52 MB of HTML at 128 tokens and 212 MB (4 GB of "
            "browser memory, 21 s to draw) at 256. The heatmaps above stay interactive to 4,096 tokens.")


def layer_window(n_layers: int, n_heads: int, n_tokens: int, centre: int) -> list[int]:
    """Consecutive layers around ``centre`` so layers x heads x T^2 stays within the MiniLM budget."""
    cap = limits.current().bertviz_max_tokens
    fit = max(1, min(n_layers, (BUDGET_HEADS * cap * cap) // max(1, n_heads * n_tokens * n_tokens)))
    start = min(max(0, centre - fit // 2), n_layers - fit)
    return list(range(start, start + fit))


@torch.inference_mode()
def attentions(result: models.RunResult, layers: list[int]) -> list[torch.Tensor]:
    """bertviz's input: per layer (batch=1, head, q_pos, k_pos), float64 rounded to 3 decimals."""
    out = []
    for layer in layers:
        w = layer_weights(result, layer)                       # (head, q_pos, k_pos)
        out.append(w.double().round(decimals=3)[None].cpu())
    return out


def _escape_json(js: str, start: int, end: int) -> str:
    seg = js[start:end].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return js[:start] + seg + js[end:]


def offline(html: str) -> str:
    """Inline the vendored libraries, drop the duplicated JSON, escape markup inside the JSON."""
    missing = vendor_missing()
    if missing:
        raise FileNotFoundError(f"bertviz's JavaScript is not installed ({', '.join(missing)}); "
                                "run `make vendor` (npm, once).")
    start = html.index("const params = ") + len("const params = ")
    end = html.index("; // HACK: ", start)
    eol = html.index("\n", end)
    html = html[:end + 1] + html[eol:]                         # drop the commented duplicate
    html = _escape_json(html, start, end)
    html = REQUIRE_CONFIG.sub("", html, count=1)
    libs = "\n".join(f"<script>{(VENDOR / LIBS[n]).read_text(encoding='utf-8')}</script>"
                     for n in ("jquery", "d3", "require"))
    # jQuery and d3 load before require.js, so they set globals; then name them as AMD modules.
    shim = ("<script>define('jquery', [], function () { return window.jQuery; });"
            "define('d3', [], function () { return window.d3; });</script>")
    html, n = CDN_REQUIRE.subn(lambda _: libs + shim, html, count=1)
    if n != 1:
        raise RuntimeError("bertviz's HTML changed: no require.js CDN tag to replace")
    return html


def _label(tok: str) -> str:
    return tok.replace("\n", "↵").replace("\t", "⇥") or "∅"


def embed(result: models.RunResult, view: str = "head", layer: int = 0, *,
          layers: list[int] | None = None, enforce_cap: bool = True) -> Embed:
    """Offline bertviz ``view`` ("head" or "model") of ``result``, layers around ``layer``.

    ``layers`` and ``enforce_cap=False`` are for benchmarks that measure bertviz past the cap.
    """
    from bertviz import head_view, model_view

    if enforce_cap:
        check_cap(result.n_tokens)
    layers = layers or layer_window(result.n_layers, result.adapter.layout.n_heads, result.n_tokens, layer)
    attn = attentions(result, layers)
    # bertviz indexes the list by layer number: pad the layers left out with a 1x1 placeholder.
    full = [attn[layers.index(i)] if i in layers else torch.zeros(1, 1, 1, 1) for i in range(result.n_layers)]
    tokens = [_label(t) for t in result.tokens]
    fn = {"head": head_view, "model": model_view}[view]
    kw = {"layer": layer} if view == "head" and layer in layers else {}
    raw = fn(full, tokens, include_layers=layers, html_action="return", **kw).data
    return Embed(offline(raw), view, layers, result.n_tokens)


def raw_size(result: models.RunResult, view: str = "head") -> int:
    """Bytes of bertviz's own HTML (unrounded float32 weights, duplicated JSON, CDN scripts)."""
    from bertviz import head_view, model_view

    attn = [layer_weights(result, layer)[None].cpu() for layer in range(result.n_layers)]
    fn = {"head": head_view, "model": model_view}[view]
    return len(fn(attn, list(result.tokens), html_action="return").data.encode())


def params_json(html: str) -> dict:
    """The params object embedded in an offline embed (for tests)."""
    start = html.rindex("const params = ") + len("const params = ")
    return json.loads(html[start:html.index("\n", start)].rstrip().rstrip(";"))
