"""``python -m demo`` (``make demo``): play the reference scenario on the local emulator, with
Wavegate starting every agent (scripted agents on the emulator) and chaining the waves.

Exit 0 only if every expected outcome happened; every process is shut down, also on failure or
Ctrl-C. The transcript and the final dashboard are written to the folder named at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .launched import LaunchedScenario
from .scenario import ScenarioFailed, Transcript, write_outputs
from .stack import ROOT, Stack, redis_url_for


def show_failed_processes(stack: Stack, out: Transcript) -> None:
    """For every process that died or logged a traceback: the last lines of its log, then the path
    of the full log (the cause of a failure is there, not in the client's error)."""
    for name in stack.failed_processes():
        exit_code = stack.exited.get(name)
        how = f"exited with code {exit_code}" if exit_code is not None else "logged an error"
        out.say("demo", f"{name} {how}; the last lines of its log:")
        for line in stack.log_tail(name):
            print(f"    {line}", flush=True)
        out.say("demo", f"full log: {stack.log_path(name)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "demo-output", help="where to write the transcript")
    # REDIS_URL is the setting; the demo flushes that URL's database (--redis-url: an older alias)
    parser.add_argument("--redis-url", default=redis_url_for(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    out = Transcript()
    started = time.monotonic()
    result: dict = {}
    code = 1
    workdir = Path(tempfile.mkdtemp(prefix="wavegate-demo-"))
    stack = Stack(workdir, redis_url=args.redis_url)
    try:
        with stack:
            out.say("demo", f"emulator at {stack.emulator_url}; Wavegate (granian) at {stack.web_url}; "
                            "one RQ worker; Redis at " + args.redis_url)
            result = LaunchedScenario(stack, out).run()
        out.step(f"Final dashboard of #{result['issue']}")
        print(result["dashboard"])
        code = 0
    except ScenarioFailed as exc:
        out.say("demo", f"FAILED: {exc}")
    except TimeoutError as exc:
        out.say("demo", f"FAILED: {exc}")
    except Exception as exc:  # noqa: BLE001 - reported as a failed outcome, traceback kept in the folder
        (args.out).mkdir(parents=True, exist_ok=True)
        (args.out / "error.txt").write_text(traceback.format_exc())
        out.say("demo", f"FAILED: unexpected {type(exc).__name__}: {exc} (traceback in {args.out}/error.txt)")
    except KeyboardInterrupt:
        out.say("demo", "interrupted; every process was stopped")
        code = 130
    finally:
        if code == 1:
            show_failed_processes(stack, out)
        write_outputs(args.out, out, result)
        out.say("demo", f"{'passed' if code == 0 else 'did not pass'} in {time.monotonic() - started:.1f} s; "
                        f"transcript and dashboard in {args.out}/ (process logs in {workdir}/logs)")
    return code


if __name__ == "__main__":
    sys.exit(main())
