"""Sparse attention patterns as boolean masks (q_pos, k_pos), with their density and cost.

Primitives follow the taxonomy in Tunstall et al., *NLP with Transformers* ch. 11 (global, band,
dilated, random, block-local). Presets use each paper's published defaults:

- Longformer (Beltagy et al. 2020): sliding window of 512 keys in total (256 each side), plus
  global attention on chosen tokens (the [CLS] token, position 0, by default).
- BigBird ITC (Zaheer et al. 2020): block 64, 3 sliding-window blocks, 3 random blocks per
  query block, 2 global blocks (first and last) -- the defaults of ``BigBirdConfig``.
- Sparse Transformer (Child et al. 2019), causal: "strided" (keys within ``stride`` behind the
  query, or a multiple of ``stride`` behind) and "fixed" (keys in the query's own block of
  ``stride``, or in the last ``c`` columns of any earlier block); stride 128, c 32 as for enwik8.

``build(pattern, seq_len, **params)`` returns the mask together with the parameters actually used
and notes (a window larger than the sequence is clamped, and the note says so).
``build_mask`` is the stable one-tensor API. The mask drawn by the page is this tensor; the one
executed by ``core.efficiency.flex`` is this tensor too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from core.runtime.errors import InputError

PRIMITIVES = ("global", "window", "dilated", "random", "block_local")
PRESETS = ("longformer", "bigbird", "strided", "fixed")
PATTERNS = PRESETS + PRIMITIVES

# Published defaults, per pattern (the page shows them; every one can be overridden).
DEFAULTS: dict[str, dict] = {
    "longformer": {"window": 512, "global_tokens": 1, "causal": False},
    "bigbird": {"block": 64, "window_blocks": 3, "random_blocks": 3, "global_blocks": 2,
                "seed": 0, "causal": False},
    "strided": {"stride": 128, "causal": True},
    "fixed": {"stride": 128, "c": 32, "causal": True},
    "global": {"global_tokens": 16, "causal": False},
    "window": {"window": 256, "causal": False},
    "dilated": {"window": 256, "dilation": 2, "causal": False},
    "random": {"n_random": 64, "seed": 0, "causal": False},
    "block_local": {"block": 128, "causal": False},
}
SOURCES = {
    "longformer": "Beltagy, Peters & Cohan 2020, 'Longformer' (window 512, global on task tokens)",
    "bigbird": "Zaheer et al. 2020, 'Big Bird' ITC; HF BigBirdConfig defaults (block 64, 3 random blocks)",
    "strided": "Child et al. 2019, 'Generating Long Sequences with Sparse Transformers' (strided)",
    "fixed": "Child et al. 2019, 'Generating Long Sequences with Sparse Transformers' (fixed, c=32)",
}


@dataclass(frozen=True)
class Pattern:
    """A built mask and what went into it."""
    name: str
    seq_len: int
    mask: torch.Tensor                  # (q_pos, k_pos) bool, True = the query may read the key
    params: dict                        # parameters actually used (after clamping)
    notes: tuple[str, ...] = field(default=())

    @property
    def density(self) -> float:
        return density(self.mask)


def _positive(name: str, value, *, zero_ok: bool = False) -> int:
    if isinstance(value, bool) or not float(value).is_integer():
        raise InputError(f"{name} must be a whole number, got {value!r}.")
    value = int(value)
    if value < 0 or (value == 0 and not zero_ok):
        raise InputError(f"{name} must be {'≥ 0' if zero_ok else '≥ 1'}, got {value}.")
    return value


def _clamp(name: str, value: int, cap: int, seq_len: int, notes: list[str]) -> int:
    if value > cap:
        notes.append(f"{name} {value:,} is larger than the sequence ({seq_len:,} tokens); "
                     f"clamped to {cap:,}.")
        return cap
    return value


def build(pattern: str, seq_len: int, **params) -> Pattern:
    """Build ``pattern`` at ``seq_len`` (published defaults for anything not given)."""
    if pattern not in DEFAULTS:
        raise InputError(f"Unknown pattern {pattern!r}; choose one of {', '.join(PATTERNS)}.")
    n = _positive("sequence length", seq_len)
    unknown = set(params) - set(DEFAULTS[pattern])
    if unknown:
        raise InputError(f"{pattern} takes {', '.join(DEFAULTS[pattern])}; not {', '.join(sorted(unknown))}.")
    p = {**DEFAULTS[pattern], **params}
    notes: list[str] = []
    q = torch.arange(n)[:, None]                    # (q_pos, 1)
    k = torch.arange(n)[None, :]                    # (1, k_pos)
    if pattern in ("longformer", "window", "dilated"):
        p["window"] = _clamp("The window", _positive("window", p["window"]), n, n, notes)
    if pattern == "longformer":
        g = _clamp("The number of global tokens", _positive("global_tokens", p["global_tokens"], zero_ok=True), n, n, notes)
        p["global_tokens"] = g
        mask = ((q - k).abs() <= p["window"] // 2) | (q < g) | (k < g)
    elif pattern == "window":
        mask = (q - k).abs() <= p["window"] // 2
    elif pattern == "dilated":
        d = _positive("dilation", p["dilation"])
        reach = (p["window"] // 2) * d
        mask = ((q - k).abs() <= reach) & ((q - k) % d == 0)
    elif pattern == "global":
        g = _clamp("The number of global tokens", _positive("global_tokens", p["global_tokens"]), n, n, notes)
        p["global_tokens"] = g
        mask = (q < g) | (k < g) | (q == k)
    elif pattern == "random":
        r = _clamp("The number of random keys", _positive("n_random", p["n_random"]), n, n, notes)
        p["n_random"] = r
        gen = torch.Generator().manual_seed(int(p["seed"]))
        picks = torch.rand(n, n, generator=gen).topk(r, dim=1).indices  # (q_pos, n_random)
        mask = torch.zeros(n, n, dtype=torch.bool).scatter_(1, picks, True) | (q == k)
    elif pattern == "block_local":
        b = _clamp("The block", _positive("block", p["block"]), n, n, notes)
        p["block"] = b
        mask = (q // b) == (k // b)
    elif pattern == "bigbird":
        mask = _bigbird(n, p, notes)
    elif pattern == "strided":
        s = _clamp("The stride", _positive("stride", p["stride"]), n, n, notes)
        p["stride"] = s
        mask = ((q - k) < s) | ((q - k) % s == 0)
    else:  # fixed
        s = _clamp("The stride", _positive("stride", p["stride"]), n, n, notes)
        c = _positive("c", p["c"])
        if c > s:
            notes.append(f"c {c} is larger than the stride {s}; clamped to {s}.")
            c = s
        p.update(stride=s, c=c)
        mask = ((q // s) == (k // s)) | ((k % s) >= s - c)
    if p.get("causal"):
        mask = mask & (k <= q)
    return Pattern(pattern, n, mask.contiguous(), p, tuple(notes))


def _bigbird(n: int, p: dict, notes: list[str]) -> torch.Tensor:
    """BigBird ITC at block granularity: window blocks, random blocks, global first/last blocks."""
    b = _clamp("The block", _positive("block", p["block"]), n, n, notes)
    p["block"] = b
    nb = -(-n // b)                                  # number of blocks (last may be partial)
    w = _positive("window_blocks", p["window_blocks"])
    r = _positive("random_blocks", p["random_blocks"], zero_ok=True)
    g = _clamp("The number of global blocks", _positive("global_blocks", p["global_blocks"], zero_ok=True), nb, n, notes)
    qb = torch.arange(nb)[:, None]
    kb = torch.arange(nb)[None, :]
    blocks = (qb - kb).abs() <= w // 2                         # (q_block, k_block) sliding window
    glob = torch.zeros(nb, dtype=torch.bool)
    glob[: (g + 1) // 2] = True                                 # first block(s) ...
    if g // 2:
        glob[nb - g // 2:] = True                               # ... and last block(s)
    blocks |= glob[:, None] | glob[None, :]
    gen = torch.Generator().manual_seed(int(p["seed"]))
    for i in range(nb):
        free = (~blocks[i]).nonzero().flatten()                 # blocks not yet attended
        if r and len(free) and not glob[i]:
            blocks[i, free[torch.randperm(len(free), generator=gen)[:r]]] = True
    idx = torch.arange(n) // b                                  # token -> block
    return blocks[idx][:, idx]                                  # (q_pos, k_pos)


def mask_mod(pattern: Pattern):
    """The same mask as a closed-form flex_attention ``mask_mod(b, h, q_idx, kv_idx)``, or None
    (random, BigBird: those read the tensor). Evaluating it on the full index grid reproduces
    ``pattern.mask`` exactly (tested); kernels that use it skip a (q_pos, k_pos) tensor lookup."""
    p, name = pattern.params, pattern.name
    causal = bool(p.get("causal"))

    def finish(keep, q, k):
        return keep & (k <= q) if causal else keep

    if name in ("longformer", "window"):
        half, g = p["window"] // 2, p.get("global_tokens", 0)
        return lambda b, h, q, k: finish(((q - k).abs() <= half) | (q < g) | (k < g), q, k)
    if name == "dilated":
        d, reach = p["dilation"], (p["window"] // 2) * p["dilation"]
        return lambda b, h, q, k: finish(((q - k).abs() <= reach) & ((q - k) % d == 0), q, k)
    if name == "global":
        g = p["global_tokens"]
        return lambda b, h, q, k: finish((q < g) | (k < g) | (q == k), q, k)
    if name == "block_local":
        blk = p["block"]
        return lambda b, h, q, k: finish((q // blk) == (k // blk), q, k)
    if name == "strided":
        st = p["stride"]
        return lambda b, h, q, k: finish(((q - k) < st) | ((q - k) % st == 0), q, k)
    if name == "fixed":
        st, c = p["stride"], p["c"]
        return lambda b, h, q, k: finish(((q // st) == (k // st)) | ((k % st) >= st - c), q, k)
    return None


# The one size knob per pattern, for short texts (the real-model view): other params scale with it.
SIZE_PARAM = {"longformer": "window", "window": "window", "dilated": "window", "bigbird": "block",
              "block_local": "block", "strided": "stride", "fixed": "stride", "random": "n_random",
              "global": "global_tokens"}


def sized(pattern: str, size: int) -> dict:
    """Parameters of ``pattern`` with its main size set to ``size`` (fixed's c kept at stride/4)."""
    params = {SIZE_PARAM[pattern]: size}
    if pattern == "fixed":
        params["c"] = max(1, size // 4)
    return params


def build_mask(pattern: str, seq_len: int, **params) -> torch.Tensor:
    """Stable API: the bool mask (q_pos, k_pos) of ``pattern``; True where attention is kept."""
    return build(pattern, seq_len, **params).mask


def density(mask: torch.Tensor) -> float:
    """Fraction of (query, key) pairs kept."""
    return float(mask.float().mean())


def block_density(mask: torch.Tensor, block: int = 128) -> float:
    """Fraction of ``block`` x ``block`` tiles with any kept pair: what a block-sparse kernel
    such as flex_attention must actually compute (it skips only the empty tiles)."""
    n = mask.shape[0]
    nb = -(-n // block)
    pad = torch.zeros(nb * block, nb * block, dtype=torch.bool)
    pad[:n, :n] = mask
    tiles = pad.view(nb, block, nb, block).any(dim=3).any(dim=1)  # (q_block, k_block)
    return float(tiles.float().mean())


def cost(mask: torch.Tensor, d_head: int = 64, heads: int = 8, bytes_per_score: int = 4,
         block: int = 128) -> dict:
    """Theoretical cost of one attention layer, dense vs this mask.

    FLOPs: 2 n_pairs d_head for q k^T plus 2 n_pairs d_head for weights @ v, per head.
    Score memory: one float per kept (query, key) pair per head.
    """
    n = mask.shape[0]
    kept = int(mask.sum())
    dense_pairs = n * n
    flops = lambda pairs: 4 * pairs * d_head * heads
    return {
        "seq_len": n, "pairs_dense": dense_pairs, "pairs_kept": kept,
        "density": kept / dense_pairs,
        "flops_dense": flops(dense_pairs), "flops_sparse": flops(kept),
        "score_bytes_dense": dense_pairs * heads * bytes_per_score,
        "score_bytes_sparse": kept * heads * bytes_per_score,
        "ideal_speedup": dense_pairs / max(kept, 1),
        "block": block, "block_density": block_density(mask, block),
    }
