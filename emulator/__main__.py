"""``python -m emulator [--host H] [--port P] [--data-dir DIR]``: serve until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server import start


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, print ``emulator: URL`` on one flushed line, serve until a signal."""
    parser = argparse.ArgumentParser(prog="emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    running = start(args.host, args.port, args.data_dir)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"emulator: {running.url}", flush=True)
    stop.wait()
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
