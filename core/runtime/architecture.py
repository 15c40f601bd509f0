"""The description of a whole model that the model map draws, with no torch in it.

Each family's adapter (``core.runtime.adapters``) produces an ``Architecture`` from its config and
modules (``adapter.architecture()``); this module only holds the vocabulary it is written in, so
that a page can draw a stored description before torch is imported (``core.runtime.describe``).
``to_dict``/``from_dict`` round-trip it through JSON exactly.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

GLOBAL, LOCAL, BIDIRECTIONAL = "global", "local", "bidirectional"


@dataclass(frozen=True)
class HeadLayout:
    n_heads: int          # query heads
    n_kv_heads: int       # key/value heads (fewer under GQA/MQA)
    d_head: int

    @property
    def group(self) -> int:
        """Query heads per KV head; query head h reads KV head h // group (as in HF)."""
        return self.n_heads // self.n_kv_heads

    def kv_head_of(self, head: int) -> int:
        return head // self.group


def layout_of(config) -> HeadLayout:
    n_heads = config.num_attention_heads
    n_kv = getattr(config, "num_key_value_heads", None) or n_heads
    d_head = getattr(config, "head_dim", None) or config.hidden_size // n_heads
    return HeadLayout(n_heads, n_kv, d_head)


@dataclass(frozen=True)
class Part:
    """One step of the model's diagram, in the order data flows through it."""
    kind: str            # input, embed, position, norm, attention, cross_attention, add, mlp, unembed, output
    label: str           # what the family calls it: "RMSNorm", "SwiGLU MLP"
    note: str = ""       # one line on what it does, for hover text


@dataclass(frozen=True)
class Stack:
    """A stack of identical blocks with what comes before and after it (a decoder, an encoder)."""
    name: str
    embed: tuple[Part, ...]               # input and embedding, before layer 0
    block: tuple[Part, ...]               # one layer's sublayers in order (norms, attention, adds, MLP)
    layer_types: tuple[str, ...]          # per layer: global, local or bidirectional
    head: tuple[Part, ...]                # after the last layer: final norm, unembedding, output
    d_model: int
    layout: HeadLayout
    d_ff: int
    vocab: int | None = None
    window: int | None = None             # keys a local layer sees, itself included
    positions: int | None = None          # a fixed length (Whisper's 1,500 frames); None: the input's
    reads: str | None = None              # the stack a cross-attention reads its keys/values from
    input_shape: tuple[int, ...] | None = None   # what enters when it is not token ids: (80, 3000) mel

    @property
    def n_layers(self) -> int:
        return len(self.layer_types)


@dataclass(frozen=True)
class Architecture:
    family: str
    stacks: tuple[Stack, ...]


ADD = Part("add", "+", "residual add: the sublayer's write joins the stream")

_PARTS = ("embed", "block", "head")


def to_dict(arch: Architecture) -> dict:
    """Plain JSON-ready data (tuples become lists)."""
    return asdict(arch)


def from_dict(data: dict) -> Architecture:
    """The exact inverse of ``to_dict``: ``from_dict(to_dict(a)) == a``."""
    def stack(s: dict) -> Stack:
        kw = {f.name: s[f.name] for f in fields(Stack)}
        kw.update({k: tuple(Part(**p) for p in s[k]) for k in _PARTS})
        kw["layer_types"] = tuple(s["layer_types"])
        kw["layout"] = HeadLayout(**s["layout"])
        kw["input_shape"] = None if s["input_shape"] is None else tuple(s["input_shape"])
        return Stack(**kw)
    return Architecture(data["family"], tuple(stack(s) for s in data["stacks"]))
