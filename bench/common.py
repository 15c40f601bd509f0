"""Shared benchmark helpers: machine description, medians, and report writing."""
from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """One line naming the machine: CPU model, cores, memory, torch device."""
    import psutil
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = (f"; GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "; no GPU")
    return (f"{cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM{gpu}; "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads; Python {platform.python_version()}")


def median_time(fn: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall seconds of ``fn()`` over ``repeat`` runs after ``warmup`` runs, and all samples."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), samples


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def write_report(name: str, title: str, body: str) -> Path:
    """Write bench/results/<name>.md with a header stating the machine, time and load."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    path.write_text(f"# {title}\n\n- Machine: {machine()}\n- Run: {stamp}, {load_average()} at the end\n"
                    f"- Figures are medians; ratios are from the same run.\n\n{body.strip()}\n")
    return path


def write_section(name: str, title: str, intro: str, part: str, body: str, order: list[str]) -> Path:
    """Replace one marked part of bench/results/<name>.md and keep the others, so the commands that
    write a report's parts (e.g. the load sweep, the faults, the browser check) can run apart."""
    import re
    path = RESULTS / f"{name}.md"
    old = path.read_text() if path.exists() else ""
    parts = dict(re.findall(r"<!-- part:(\w+) -->\n(.*?)<!-- /part -->\n", old, flags=re.S))
    parts[part] = body.strip() + "\n"
    text = "\n".join(f"<!-- part:{p} -->\n{parts[p]}<!-- /part -->\n" for p in order if p in parts)
    return write_report(name, title, intro.strip() + "\n\n" + text)


def md_table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(out)
