"""Test set-up: never reach a model hub; tests run from the repo root."""
import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.pop("ATLAS_HOSTED", None)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
ARTIFACTS = ROOT / "tests" / "artifacts"

# AppTest runs in this process: like deploy.serve, turn off Streamlit's legacy pages/-folder
# mode so a page switch runs app.py and the page, as a real deep link does.
from deploy.serve import disable_legacy_pages_folder  # noqa: E402

disable_legacy_pages_folder()
