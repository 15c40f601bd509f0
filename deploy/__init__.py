"""Deployment helpers: N Streamlit replicas behind nginx on loopback (``python -m deploy.scale_out``)."""
