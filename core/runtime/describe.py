"""What the model map needs, before the engine is imported: a model's description and a text's token count.

The description is the family adapter's own ``architecture()``, computed by the live adapter and
stored in the cache (``descriptions/<name>.json``) by ``core.runtime.prepare``, or by the first
live call. It is keyed on everything that determines it: the model's name (which decides whether
it is loaded with a language-model head), its config.json, the adapters' source and the installed
transformers (whose config classes fill in defaults). A stored description whose key differs is
never used: the live adapter then answers and the file is rewritten. Only bundled models are
stored; any other model is described live.

The token count is that of ``models.encode`` (specials included), read with ``tokenizers`` from
the model's own tokenizer.json, padding and truncation off as transformers' fast tokenizer runs it
(tests/test_describe.py checks both against the live model for every bundled model).
Nothing here imports torch or transformers unless it falls back to the live model.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from core.runtime import limits, registry, warmup
from core.runtime.architecture import Architecture, from_dict, to_dict
from core.runtime.errors import InputError
from core.runtime.paths import REPO, cache_dir, model_dir

_SOURCES = [REPO / "core" / "runtime" / "architecture.py", *sorted((REPO / "core" / "runtime" / "adapters").glob("*.py"))]


def _bundled(name: str) -> bool:
    return name in registry.BUNDLED or name in registry.SPEECH


def _stored_path(name: str) -> Path:
    return cache_dir() / "descriptions" / f"{name}.json"


def key(name: str) -> str | None:
    """The hash a stored description of bundled ``name`` must carry; None if it isn't prepared."""
    try:
        config = (model_dir(name) / "config.json").read_bytes()
    except (OSError, FileNotFoundError):
        return None
    h = hashlib.sha256(name.encode() + b"\0" + config + b"\0" + metadata.version("transformers").encode())
    for src in _SOURCES:
        h.update(src.read_bytes())
    return h.hexdigest()


def stored(name: str) -> Architecture | None:
    """The stored description of ``name`` if it is there and its key is current, else None."""
    if not _bundled(name):
        return None
    try:
        data = json.loads(_stored_path(name).read_text())
    except (OSError, ValueError):
        return None
    k = key(name)
    return from_dict(data["architecture"]) if k is not None and data.get("key") == k else None


def live(name: str) -> Architecture:
    """The description from the loaded model's adapter (imports the engine, loads the model);
    stored for next time when ``name`` is bundled."""
    warmup.import_engine()
    from core.runtime import models
    arch = models.load(name).adapter.architecture()
    k = key(name) if _bundled(name) else None
    if k is not None:
        path = _stored_path(name)
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        with contextlib.suppress(OSError):            # a read-only cache only costs the fast path
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"name": name, "key": k, "architecture": to_dict(arch)}))
            os.replace(tmp, path)
    return arch


def architecture(name: str) -> Architecture:
    """``name``'s description, as its adapter's ``architecture()`` gives it: stored, or live."""
    return stored(name) or live(name)


@functools.lru_cache(maxsize=8)
def _tokenizer(name: str):
    path = model_dir(name) / "tokenizer.json"
    if not path.exists():
        return None
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return tok


def n_tokens(name: str, text: str) -> int:
    """How many tokens ``models.encode`` gives ``text`` (specials included), with its checks."""
    tok = _tokenizer(name) if _bundled(name) else None
    if tok is None:
        warmup.import_engine()
        from core.runtime import models
        return len(models.encode(models.load(name), text)["ids"])
    limits.check_text(text)
    n = len(tok.encode(text, add_special_tokens=True).ids)
    limits.check_tokens(n)
    if not n:
        raise InputError("The text produced no tokens.")
    return n
