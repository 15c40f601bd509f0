"""Pure figure builders: data in, plotly Figure out. No Streamlit here.

Every builder uses the colour-blind-safe palettes in ``core.figures.theme``.
"""
