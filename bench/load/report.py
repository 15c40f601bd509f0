"""The load-test report's title, introduction and parts, shared by bench/load/run.py (Locust)
and bench/browser_check.py (Chromium), which must not import each other: locust's gevent patches
would break the browser check's asyncio."""

PARTS = ["sweep", "faults", "browser"]       # the browser truth check (bench/browser_check.py) writes "browser"
TITLE = "Load test: protocol-level users (Locust), faults, and a real-browser truth check"
INTRO = """Tool: `python -m bench.load.run` (Locust `Environment` + local runner; the users speak Streamlit's
wire protocol from `streamlit.proto`: BackMsg `rerun_script` over `/_stcore/stream`, ForwardMsg deltas
until `script_finished`, see `bench/load/protocol.py`). Each user opens a page (home, attention,
scaling, sparse in turn) with its own tag (**open** rows), then, waiting between interactions as a
person reading the chart does, changes that page's controls: **cold** rows are a new sentence (one
forward pass), **warm** rows a new layer/head/slider/pattern on what is cached. Every server has first
opened each page once (models loaded) before timing. The machine's 2 cores are shared with the load
generator and whatever else runs; each row states the load average and the generator's CPU-seconds.
"""
