"""Start-up as the books grow: exec -> first proxied 200 and RSS after start, for the
connector on a data directory without history and on one holding a large usage history, beside
the bare relay, in the same run and on the same mock upstream as bench_goals.py.

    python benchmarks/bench_start.py                      # 1,048,576 records, 3 starts each
    python benchmarks/bench_start.py --records 20000 --runs 1

The history is written straight into the connector's SQLite file (copies of the record
its first start left, request ids made unique, spread over this month so the budgets'
month holds all of them), so the database is what months of use leave behind.
Both data directories have been started on once (the database made, the prices saved):
the starts timed are the later starts every install makes.

Beside them, `stack_floor.py`: the libraries the connector is built on (FastAPI,
pydantic-settings, SQLModel on SQLite, prometheus_client, uvicorn) serving a relay
through the connector's HTTP client, so the part of a start that is the stack's, not
the connector's own, is measured in the same run. The starts alternate, relay, floor,
connector without history, connector with it, so a pause of the host falls on all
alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_goals import GOAL_SURFACES, Gateway, _start, _targets, running_mock
from harness import (
    BENCH_KEY,
    REPO,
    connector_command,
    connector_env,
    free_port,
    split_cpus,
    status_mb,
    stop_process,
)

HERE = Path(__file__).resolve().parent

_BATCH = 50_000
HEADER = (
    "| gateway | exec -> first proxied 200 (s), median | each start (s) | RSS after start (MB) |"
)


def grow_history(database: Path, records: int) -> int:
    """Copy the newest usage record until the table holds `records`; returns how many
    it holds."""
    db = sqlite3.connect(database)
    try:
        have = int(db.execute("SELECT count(*) FROM usage_record").fetchone()[0])
        columns = [row[1] for row in db.execute("PRAGMA table_info(usage_record)")]
        columns.remove("id")
        newest = db.execute(
            f"SELECT {', '.join(columns)} FROM usage_record ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if newest is None:
            raise SystemExit("the connector's first start left no usage record to copy")
        at_id, at_created = columns.index("request_id"), columns.index("created_at")
        now = datetime.now(UTC).replace(tzinfo=None)
        month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        span = max(1, int((now - month).total_seconds()))
        sql = (
            f"INSERT INTO usage_record ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        row = list(newest)
        batch: list[tuple[object, ...]] = []
        for n in range(max(0, records - have)):
            row[at_id] = f"history-{n}"
            at = month + timedelta(seconds=(n * 7919) % span)
            row[at_created] = at.strftime("%Y-%m-%d %H:%M:%S.%f")
            batch.append(tuple(row))
            if len(batch) == _BATCH:
                db.executemany(sql, batch)
                batch.clear()
        db.executemany(sql, batch)
        db.commit()
        return int(db.execute("SELECT count(*) FROM usage_record").fetchone()[0])
    finally:
        db.close()


async def _run(args: argparse.Namespace, scratch: Path) -> int:
    empty_dir, large_dir, floor_dir = (scratch / name for name in ("empty", "large", "floor"))
    for made in (empty_dir, large_dir, floor_dir):
        made.mkdir()
    split = split_cpus()
    gateway_cpus, other_cpus = split if split else (None, None)
    surface = GOAL_SURFACES["v1"]
    with running_mock(["bench"], other_cpus) as mock_port:
        mock = f"http://127.0.0.1:{mock_port}"

        async def start(side: str, data_dir: Path | None) -> Gateway:
            port = free_port()
            probe = _targets(
                surface,
                {"direct": mock_port, "relay": port, "connector": port},
                "bench",
                "bench",
                None,
            )["relay" if side == "floor" else side]  # the floor takes the relay's request
            if side == "relay":
                cmd = [sys.executable, str(HERE / "relay.py")]
                cmd += ["--upstream", mock, "--port", str(port)]
                return await _start(cmd, dict(os.environ), str(REPO), gateway_cpus, probe)
            assert data_dir is not None
            if side == "floor":
                cmd = [sys.executable, str(HERE / "stack_floor.py"), "--upstream", mock]
                cmd += ["--port", str(port), "--data", str(data_dir)]
                return await _start(cmd, dict(os.environ), str(REPO), gateway_cpus, probe)
            env = connector_env(mock + "/v1", BENCH_KEY, str(data_dir), mock)
            return await _start(connector_command(port), env, str(data_dir), gateway_cpus, probe)

        # A first start on each makes the database and saves the prices (a new data
        # directory's start, measured by bench_goals.py); the ones timed are later starts.
        for side, data_dir in (("connector", empty_dir), ("connector", large_dir)):
            stop_process((await start(side, data_dir)).proc)
        stop_process((await start("floor", floor_dir)).proc)
        began = time.perf_counter()
        database = large_dir / "connector.db"
        held, size = await asyncio.to_thread(
            lambda: (grow_history(database, args.records), database.stat().st_size / 2**20)
        )
        print(
            f"history: {held:,} usage records this month, database {size:.0f} MB "
            f"(written in {time.perf_counter() - began:.1f} s)"
        )
        results: dict[str, list[tuple[float, float]]] = {
            "relay": [],
            "floor": [],
            "empty": [],
            "large": [],
        }
        sides: list[tuple[str, str, Path | None]] = [
            ("relay", "relay", None),
            ("floor", "floor", floor_dir),
            ("empty", "connector", empty_dir),
            ("large", "connector", large_dir),
        ]
        for _ in range(args.runs):
            for name, side, side_dir in sides:
                gw = await start(side, side_dir)
                results[name].append((gw.start_s, status_mb(gw.proc.pid, "VmRSS")))
                stop_process(gw.proc)
    labels = {
        "relay": "bare relay",
        "floor": "the connector's libraries relaying (stack_floor.py)",
        "empty": "connector, no history",
        "large": f"connector, {held:,} records",
    }
    print(HEADER)
    print("|---|---|---|---|")
    for name, runs in results.items():
        each = ", ".join(f"{s:.2f}" for s, _ in runs)
        rss = median(r for _, r in runs)
        print(f"| {labels[name]} | {median(s for s, _ in runs):.2f} | {each} | {rss:.0f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_048_576, help="usage records")
    parser.add_argument("--runs", type=int, default=3, help="starts of each gateway")
    args = parser.parse_args(argv)
    if not 1 <= args.records <= 20_000_000 or not 1 <= args.runs <= 50:
        parser.error("--records must be 1 ... 20,000,000 and --runs 1 ... 50")
    with tempfile.TemporaryDirectory(prefix="connector-start-") as scratch:
        return uvloop.run(_run(args, Path(scratch)))


if __name__ == "__main__":
    raise SystemExit(main())
