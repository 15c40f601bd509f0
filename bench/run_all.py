"""Run every bench/bench_*.py main() in turn (``make bench``), or the ones named:
``python -m bench.run_all speed app`` runs bench_speed and bench_app."""
import importlib
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = []
    wanted = set(sys.argv[1:])
    for path in sorted(here.glob("bench_*.py")):
        if wanted and path.stem.removeprefix("bench_") not in wanted:
            continue
        mod = importlib.import_module(f"bench.{path.stem}")
        print(f"[bench] {path.stem} …", flush=True)
        try:
            print(f"[bench] wrote {mod.main()}", flush=True)
        except Exception as exc:  # noqa: BLE001 - report and carry on with the others
            failed.append(path.stem)
            print(f"[bench] {path.stem} failed: {exc!r}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
