"""Transformer Atlas: navigation and the shared sidebar. Pages live in pages/, maths in core/.

Nothing here imports torch: the navigation and the page's model-free parts paint while torch and
the default model load (deploy.serve warms them in a background thread at server start). The
engine line of the sidebar is filled in after the page has run.
"""
import streamlit as st

from core.runtime import limits
from core.runtime.paths import ASSETS
from pages.ui.nav import registered
from pages.ui.session import note_if_reconnected
from pages.ui.state import PAGE_KEY
from pages.ui.tour import overlay

st.set_page_config(page_title="Transformer Atlas", page_icon=str(ASSETS / "favicon.png"), layout="wide")

sections: dict[str, list] = {}
for info in registered():
    sections.setdefault(info.section, []).append(
        st.Page(info.file, title=info.title, icon=info.icon, url_path=info.url_path,
                default=info.url_path == "home"))
page = st.navigation(sections)
st.session_state[PAGE_KEY] = page.url_path

with st.sidebar:
    engine_line = st.empty()
    if limits.hosted():
        cap = limits.current()
        st.info(f"Hosted demo: bundled/allowlisted models only; text ≤ {cap.max_text_chars:,} chars, "
                f"≤ {cap.max_tokens:,} tokens, uploads ≤ {cap.max_upload_bytes // 2**20} MB.",
                icon=":material/public:")
    st.caption("Every control is in the URL: copy the address bar to share this exact view.")

overlay()
note_if_reconnected()          # a tab whose server went away: a fresh session, rebuilt from the link
if page.url_path not in ("", "home"):  # home paints its model-free title first, then imports (home,
    # the default page, has url_path "" when opened at "/": missing that imported torch before its title)
    from core.runtime import warmup
    warmup.import_engine()
try:
    page.run()
finally:
    from core.runtime import device      # torch: imported by now on every model page
    engine_line.caption(f"Engine device: {device.describe()} · dtype {device.describe_dtype()}")
