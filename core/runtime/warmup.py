"""The engine's first import, made once per process under one lock, and the background warm-up.

Importing transformers from two threads at once can fail half-way: its lazy modules import each
other, the import system breaks the resulting lock cycle by handing one thread a half-initialised
module, and a page then dies with "cannot import name 'AutoConfig' from 'transformers'". So the
first import of the engine happens under ``ENGINE_LOCK``, by whichever thread gets there first:
deploy.serve's warm-up thread (``warm``), or a page (``import_engine``, called by app.py before a
page runs, and by home after its model map, which needs no torch: ``core.runtime.describe``). It
includes the default causal model's classes, so loading that model imports nothing more.

With a visitor already there, the warm-up waits until a page asks for the engine (or
``VISITOR_WAIT_S``): imports hold the GIL, so a second thread importing beside the page's
model-free part only slows it down. Measured in one process (issue #16, 2 cores): the model map's
imports and figure took 2.6 s alone and 6.1 s beside the warm-up's engine import.

The warm-up holds the lock only for those imports. It then loads the default model, which a page
asking for the same model meanwhile waits for (``models.load`` loads each model once); with no
visitor yet, it also runs one short forward pass to page the weights in, which nobody waits for.
This module imports nothing heavy itself.

What the import costs (issue #16, ``python -X importtime``): torch, then transformers'
``PreTrainedModel``. ``transformers.modeling_utils`` and ``masking_utils`` import ``torch._dynamo``
at module level (``masking_utils`` imports from ``torch._dynamo._trace_wrapped_higher_order_op``;
``continuous_batching`` decorates with ``torch.compiler.disable``, which imports it), and config
classes such as ``LlamaConfig`` import ``utils.type_validators`` -> ``video_utils`` ->
``image_utils``, which imports torchvision when it is installed (it is: open_clip and timm need it).
Importing a concrete class (``LlamaForCausalLM``) instead of an Auto class pulls in the same
modules, so neither can be avoided from here without hiding installed packages from transformers.
"""
from __future__ import annotations

import gc
import threading

ENGINE_LOCK = threading.RLock()
VISITOR_WAIT_S = 20.0
_ready = threading.Event()
_asked = threading.Event()          # a page has asked for the engine


def import_engine() -> None:
    """Import torch, transformers and the model registry (once; thread-safe, cheap afterwards)."""
    _asked.set()
    if _ready.is_set():
        return
    with ENGINE_LOCK:
        if _ready.is_set():
            return
        import transformers
        from core.runtime import adapters, models  # noqa: F401 - transformers' auto classes resolved here
        for name in ("AutoConfig", "AutoTokenizer", "AutoModel", "AutoModelForCausalLM", "PreTrainedModel",
                     models.DEFAULT_CAUSAL_CLASS):
            getattr(transformers, name)
        freeze_imports()
        _ready.set()


def freeze_imports() -> None:
    """Move everything alive now (the engine's modules, classes and functions: about 410k objects
    after torch and transformers) into the collector's permanent generation, once. Python's full
    collections then walk only what came later, so a rerun that happens to trigger one pauses
    milliseconds, not a quarter of a second (issue #17, measured with py-spy on 2 cores).
    Garbage first, so nothing that is already dead is kept."""
    gc.collect()
    gc.freeze()


def warm(text: str = "The capital of France is", forward: bool = True) -> None:
    """Import the engine (under the lock), load the default causal model (once, shared with any
    page asking for it) and, if ``forward``, page its weights in with one short forward pass (no
    lock held). deploy.serve passes ``forward=False`` once a visitor is there: their page runs its
    own forward, and a second one beside it only competes for the cores (measured: first chart 29.4
    s with it, 23.2 s with no warm-up at all, floor 3.8 s); the imports then also wait until a page
    asks for the engine (see the module's docstring). Errors are left for the page that needs the
    model to show."""
    try:
        if not forward:
            _asked.wait(VISITOR_WAIT_S)
        import_engine()
        from core.runtime import models
        models.load(models.DEFAULT_CAUSAL)
        if forward:
            models.run(models.DEFAULT_CAUSAL, text)
    except Exception:  # noqa: BLE001 - the page reports a missing model itself
        pass
