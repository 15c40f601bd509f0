"""Scaling laws: closed forms (``laws``: Kaplan 2020, Hoffmann 2022, the Epoch refit), fitting your
runs (``fit``), the catalogue of real models (``catalogue``) and the live tiny sweep."""
