"""Where things live: the shared cache dir, the repo's assets, and packages that ship data."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "assets"


def cache_dir() -> Path:
    """Converted models and vocab files. ``ATLAS_CACHE_DIR`` overrides ~/.cache/transformer-atlas."""
    root = Path(os.environ.get("ATLAS_CACHE_DIR") or Path.home() / ".cache" / "transformer-atlas")
    root.mkdir(parents=True, exist_ok=True)
    return root


def package_dir(name: str) -> Path:
    """The folder of an installed package, found without importing it (some import heavy deps)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {name!r} is not installed; run `make run` or `make test` to set up")
    return Path(list(spec.submodule_search_locations)[0])
