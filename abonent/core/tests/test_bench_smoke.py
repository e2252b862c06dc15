"""`make bench`'s harness runs end to end — cheaply: SQLite, the bare view, one second.

The benchmark figures themselves are not tests (no timed assertions): `bench/README.md`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_bench_harness_runs_end_to_end_on_sqlite(tmp_path: Path) -> None:
    # given: the suite's runner, asked for its smoke figure only (no PostgreSQL or Redis)
    cmd = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--sqlite"]
    cmd += ["--only", "healthz", "--duration", "1", "--workers", "2", "--results", str(tmp_path)]

    # when
    done = subprocess.run(  # noqa: S603 (fixed argv: this interpreter, bench/run.py)
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=600
    )

    # then: it started and stopped its server, measured, and wrote the report and summary
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (report_file,) = tmp_path.glob("*-quick.json")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert [row["name"] for row in report["table"]] == ["bare JSON view (/healthz): the limit"]
    assert report["figures"]["healthz"]["requests"] > 0
    assert report["figures"]["healthz"]["errors"] == 0
    assert report["errors"] == {}
    assert report["machine"]["cores"] >= 1
    summary = report_file.with_suffix(".md").read_text(encoding="utf-8")
    assert "| figure | result | limit in the same run | ratio | goal | met |" in summary
    assert "bare JSON view (/healthz): the limit" in summary
