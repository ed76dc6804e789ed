"""The fault scenarios of tests/faults with larger runs (a benchmark, not a test).

Each scenario starts the compose services on a Redis, a PostgreSQL database and an S3
server of its own, uploads reports from concurrent careful clients while the fault
strikes, and prints one row of:

    scenario | accepted | terminal | stuck | failed | duplicated | 5xx | time to recover

accepted: documents answered 202; terminal: of those, published/rejected/failed/superseded
once the run settled (needs_review approved by a reviewer); stuck: the rest; duplicated:
documents published twice, agency-years with two published versions, uploads recorded
twice for one Idempotency-Key; 5xx: server errors the clients got (503 + Retry-After
counted too); time to recover: from the end of the fault until the last document was
terminal. Problems found (and the facts of each fault) are printed under the table.

    python bench/faults.py                 # 12 uploads, 6 concurrent per scenario
    python bench/faults.py --large         # 150 uploads, 8 concurrent
    python bench/faults.py --only broker   # scenarios whose name contains "broker"
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.harness import RunResult, deployment, run_scenario, table  # noqa: E402
from tests.faults.scenarios import SCENARIOS, takeover_seconds  # noqa: E402
from tests.faults.servers import MotoServer, S3rverServer, s3rver_path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--large", action="store_true", help="150 uploads, 8 concurrent per scenario")
    parser.add_argument("--uploads", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    args = parser.parse_args()
    uploads = args.uploads or (150 if args.large else 12)
    concurrency = args.concurrency or (8 if args.large else 6)
    results: list[RunResult] = []
    for scenario in SCENARIOS:
        if args.only.lower() not in scenario.name.lower():
            continue
        if scenario.persistent_s3 and s3rver_path() is None:
            print(f"skipped {scenario.name!r}: s3rver is not installed (scripts/setup.sh)", file=sys.stderr)
            continue
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            server = S3rverServer if scenario.persistent_s3 else MotoServer
            with deployment(Path(tmp), server) as dep:
                result = run_scenario(
                    dep,
                    scenario.name,
                    scenario.fault,
                    uploads=uploads,
                    concurrency=concurrency,
                    allow_unavailable=scenario.dependency_down,
                    settle_timeout=max(180.0, uploads * 3.0),
                )
                for kill in result.facts.pop("kills", []):
                    taken = takeover_seconds(dep, kill)
                    result.facts[f"killed {kill.service} mid-stage, taken over after"] = {
                        doc_id: None if t is None else round(t, 1) for doc_id, t in taken.items()
                    }
        results.append(result)
        print(f"{scenario.name}: done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(f"{uploads} uploads per scenario, {concurrency} concurrent clients\n")
    print(table(results))
    for result in results:
        print(f"\n{result.scenario}: {result.facts}")
        for problem in result.problems:
            print(f"  problem: {problem}")


if __name__ == "__main__":
    main()
