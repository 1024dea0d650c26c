"""The fault suite's full run: ``python -m tests.faults`` (``./scripts/faults``); docs/reliability.md says what it does.

Exit code 0 when every process completed with nothing duplicated or lost and
every chain verified, 1 otherwise, 2 when there is no PostgreSQL to run on.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from tests.faults.report import Run, heading, running
from tests.faults.rig import PostgresMissing
from tests.faults.scenarios import every_kill, jira_throttled, run_kills, smtp_down, temporal_restart


def options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/faults", description=__doc__)
    parser.add_argument("--out", type=Path, help="also write the results (Markdown) to this file")
    parser.add_argument("--kind", action="append", help="only the kill scenarios of this process kind (repeatable)")
    parser.add_argument(
        "--activity", action="append", help="only the kill scenarios of this activity (repeatable; schedule: a kind)"
    )
    parser.add_argument("--no-outages", action="store_true", help="only the kills: no Temporal, SMTP or Jira outage")
    parser.add_argument("--side-by-side", type=int, default=4, help="processes run at once in the kills (4)")
    parser.add_argument("--smtp-down", type=float, default=60.0, help="seconds SMTP is down (60)")
    parser.add_argument("--jira-seconds", type=float, default=20.0, help="seconds of each Jira failure (20)")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (worker and Temporal logs)")
    return parser.parse_args(argv)


async def full(args: argparse.Namespace) -> tuple[Run, str]:
    async with running(args.keep) as run:
        run.scenarios = [
            s for s in every_kill()
            if (not args.kind or s.kind in args.kind) and (not args.activity or s.activity in args.activity)
        ]  # fmt: skip
        print(f"killing the worker mid-activity: {len(run.scenarios)} scenarios", file=sys.stderr, flush=True)
        await run_kills(run.rig, run.scenarios, run.tags, args.side_by_side)
        if not args.no_outages:
            print("restarting Temporal mid-process", file=sys.stderr, flush=True)
            run.outages.append(await temporal_restart(run.rig, run.tags))
            print(f"SMTP down for {args.smtp_down:.0f} s", file=sys.stderr, flush=True)
            run.outages.append(await smtp_down(run.rig, run.tags, args.smtp_down))
            print("Jira answering 502 after the work, 429, 503", file=sys.stderr, flush=True)
            run.outages.append(await jira_throttled(run.rig, run.tags, args.jira_seconds))
        print("counting", file=sys.stderr, flush=True)
        await run.count()
        return run, run.table()


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM too tears the rig down and drops the database


def main(argv: list[str]) -> int:
    args = options(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        run, table = asyncio.run(full(args))
    except PostgresMissing as err:
        print(f"the fault suite runs on PostgreSQL: {err}; set SIGNOFF_TEST_POSTGRES_URL", file=sys.stderr)
        return 2
    text = heading("Fault suite, full run") + "\n" + table + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    assert run.total is not None
    return 0 if run.total.clean and all(not s.error for s in run.scenarios) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
