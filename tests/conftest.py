"""Test set-up: never reach a model hub; tests run from the repo root."""
import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.pop("ATLAS_HOSTED", None)
# The exact-agreement tests compare against HF eager in float32, so the engine runs float32
# whatever the hardware prefers; ATLAS_TEST_DTYPE=bfloat16 runs the suite in bf16 instead.
# tests/test_dtype.py loads bf16 copies itself and pins the bf16-vs-fp32 differences.
os.environ["ATLAS_DTYPE"] = os.environ.get("ATLAS_TEST_DTYPE", "float32")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
ARTIFACTS = ROOT / "tests" / "artifacts"

# AppTest runs in this process: like deploy.serve, turn off Streamlit's legacy pages/-folder
# mode so a page switch runs app.py and the page, as a real deep link does.
from deploy.serve import disable_legacy_pages_folder  # noqa: E402

disable_legacy_pages_folder()
