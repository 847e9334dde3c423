"""How fast and how small descriptor parsing is: many documents, one typical file, and an alias bomb.

``python -m benchmarks.validate_bench`` prints, for each case run in a fresh process, the time of
``parse_file`` and the process's peak resident memory (``ru_maxrss``) before and after it, so the
figures are not blurred by what an earlier case left behind.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

LIFECYCLES = ("experimental", "production", "deprecated")
CATEGORIES = ("speed-to-market", "customer-satisfaction", "business-alignment", "team-performance")
SEVERITIES = ("low", "medium", "high", "critical")


def product_document(number: int) -> str:
    """One realistic Product descriptor of about 40 lines, varied by ``number``."""
    team = f"team-{number % 37:02d}"
    return f"""apiVersion: catalog/v1
kind: Product
metadata:
  name: svc-{number:05d}
  title: Service {number}
  description: The service behind capability {number % 23} for {team}.
  tags: [{team}, service, tier-{number % 4 + 1}]
  links:
    - {{url: 'https://grafana.example.com/d/svc-{number:05d}', title: Dashboard, type: dashboard}}
spec:
  type: service
  lifecycle: {LIFECYCLES[number % 3]}
  owner: team:{team}
  tier: {number % 4 + 1}
  capabilities: [capability:cap-{number % 23:02d}]
  dependsOn:
    - product:svc-{(number * 7) % 10000:05d}
  outcomes:
    - Customers rely on it every day
    - Fewer manual steps for operations
  kpis:
    - name: lead time for changes
      category: {CATEGORIES[number % 4]}
      target: {number % 10 + 1}
      unit: days
    - name: change failure rate
      category: team-performance
      target: 5
      unit: percent
  runbooks:
    - title: Restart the service
      url: 'https://runbooks.example.com/svc-{number:05d}/restart'
      automated: {"true" if number % 2 else "false"}
  support:
    oncall: {team}-oncall
    channel: '#{team}'
    email: {team}@example.com
  techDebt:
    - title: Replace the legacy client
      severity: {SEVERITIES[number % 4]}
"""


def many_documents(count: int) -> bytes:
    """``count`` Product documents in one multi-document file."""
    return "---\n".join(product_document(n) for n in range(count)).encode()


def alias_bomb(levels: int = 12) -> bytes:
    """The "billion laughs": each level refers nine times to the one before (9**levels if expanded)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        name, previous = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    return ("\n".join(lines) + "\n").encode()


def _child(case: str, path: str, repeat: int) -> None:
    """Runs in a fresh process: parse ``path`` ``repeat`` times and report time and peak memory."""
    from catalog_sync.descriptors import LoadLimits, parse_file

    data = Path(path).read_bytes()
    limits = LoadLimits(max_file_bytes=max(len(data), 1))
    parse_file("warm-up.yaml", product_document(0).encode(), limits)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    for _ in range(repeat):
        parsed = parse_file(f"{case}.yaml", data, limits)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problems = [p.format() for p in parsed.all_problems()]
    report = {
        "case": case,
        "bytes": len(data),
        "documents": len(parsed.documents),
        "valid": sum(d.valid for d in parsed.documents),
        "seconds": seconds / repeat,
        "rss_before_kib": before,
        "rss_peak_kib": after,
        "problems": problems[:3],
    }
    print(json.dumps(report))


def _run_case(case: str, data: bytes, repeat: int, folder: Path) -> dict[str, object]:
    path = folder / f"{case}.yaml"
    path.write_bytes(data)
    command = [sys.executable, "-m", "benchmarks.validate_bench", "--child", case, str(path), str(repeat)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    report: dict[str, object] = json.loads(result.stdout)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run every case in its own process and print one line of figures per case."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.validate_bench")
    parser.add_argument("--documents", type=int, default=10_000, help="documents in the large file")
    parser.add_argument("--child", nargs=3, metavar=("CASE", "PATH", "REPEAT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        cases = [
            _run_case(f"{args.documents}-documents", many_documents(args.documents), 1, Path(folder)),
            _run_case("one-40-line-product", product_document(42).encode(), 2000, Path(folder)),
            _run_case("alias-bomb", alias_bomb(), 1, Path(folder)),
        ]
    for case in cases:
        documents = int(str(case["documents"])) or 1
        seconds = float(str(case["seconds"]))
        peak = int(str(case["rss_peak_kib"])) / 1024
        growth = peak - int(str(case["rss_before_kib"])) / 1024
        print(
            f"{case['case']:>22}: {case['bytes']:>9} bytes, {case['documents']:>5} documents "
            f"({case['valid']} valid): {seconds * 1000:9.3f} ms per file, "
            f"{seconds / documents * 1e6:7.1f} us per document; peak RSS {peak:6.1f} MiB "
            f"(+{growth:.1f} MiB while parsing)"
        )
        for problem in case["problems"]:  # type: ignore[attr-defined]
            print(f"{'':>24}{problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
