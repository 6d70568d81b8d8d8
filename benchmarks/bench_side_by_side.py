"""One run, same machine and data: pass-through, then the full pipeline with one and two
workers; prints each throughput and the ratio of the full pipeline to the pass-through.

Needs the servers the CDR_* settings point at (`eval "$(deploy/local/up)"`):
`python -m benchmarks.bench_side_by_side [--cdrs N]`. Each part runs as its own process
(`benchmarks.bench_passthrough`, `benchmarks.bench_stream`), one after the other.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

from benchmarks.bench_stream import add_data_arguments

RATE = re.compile(r"([\d,]+) CDRs/s")


def run(module: str, arguments: list[str]) -> tuple[float, str]:
    """Run a benchmark module; its CDRs/s and its output."""
    done = subprocess.run(
        [sys.executable, "-m", module, *arguments], capture_output=True, text=True, check=False
    )
    found = RATE.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{module} failed:\n{done.stdout}{done.stderr}")
    return float(found.group(1).replace(",", "")), done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_data_arguments(parser)
    args = parser.parse_args()
    sizes = ("cdrs", "codes", "accounts", "providers")
    data = [f"--{name}={getattr(args, name)}" for name in sizes]
    passthrough, _ = run("benchmarks.bench_passthrough", data)
    print(f"pass-through (no logic)  {passthrough:>9,.0f} CDRs/s", flush=True)
    for workers in (1, 2):
        rate, output = run("benchmarks.bench_stream", [*data, f"--workers={workers}"])
        print(
            f"full pipeline, {workers} worker{'s' if workers > 1 else ' '} {rate:>9,.0f} CDRs/s"
            f"  ratio {rate / passthrough:.2f}",
            flush=True,
        )
        for line in output.splitlines():
            if line.startswith(("latency", f"{workers} worker", "rated lines alone")):
                print(f"    {line}")


if __name__ == "__main__":
    main()
