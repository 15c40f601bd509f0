"""Start the Atlas with Streamlit: ``python -m deploy.serve [streamlit run options]``.

Streamlit 1.67 treats any ``pages/`` folder beside the main script as a legacy (v1) multipage
folder: a deep link such as ``/kv-cache`` then either runs the bare page file without app.py
(when the file name matches) or shows a "Page not found" dialog first. The Atlas declares its
pages with ``st.navigation`` in app.py, so legacy mode is switched off before the server starts
and every link runs app.py (navigation, shared sidebar, tour banner). Used by ``make run``, the
browser tests, the load test and the nginx replicas.
"""
from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def disable_legacy_pages_folder() -> None:
    from streamlit.runtime.pages_manager import PagesManager
    PagesManager.uses_pages_directory = False


def main(argv: list[str] | None = None) -> None:
    from streamlit.web import cli
    disable_legacy_pages_folder()
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
