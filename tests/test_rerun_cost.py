"""What a rerun costs the server beyond the page's own work (issue #17): Streamlit's full
collection after every run is off, and the engine's import-time objects are frozen out of the
collector's view, so the collections Python still makes stay short."""
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_streamlit_does_not_collect_after_every_run():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_the_engine_import_freezes_its_objects_out_of_the_collectors_view():
    code = ("import gc\n"
            "from core.runtime import warmup\n"
            "warmup.import_engine()\n"
            "gc.collect()\n"
            "print(gc.get_freeze_count(), len(gc.get_objects()))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    frozen, tracked = out.stdout.split()[-2:]
    assert int(frozen) > 200_000                 # torch + transformers: about 410k objects
    assert int(tracked) < int(frozen) / 10       # what the collector still walks
