"""Streamlit pages (registered explicitly in app.py) and their shared UI pieces in ``pages.ui``."""
