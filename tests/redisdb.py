"""Where the test suites find Redis: 127.0.0.1 on ``WAVEGATE_TEST_REDIS_PORT`` (default 6379).
Each suite owns one database number (README: 9 demo, 10 e2e, 11 app, 12 deploy, 13–14
reliability and hostile, 15 bench) and flushes it; another port lets two runs share a machine."""

import os

PORT = int(os.environ.get("WAVEGATE_TEST_REDIS_PORT", "6379"))


def redis_url(db: int, port: int | None = None) -> str:
    """``redis://127.0.0.1:<port>/<db>``; ``port`` defaults to the suite's server."""
    return f"redis://127.0.0.1:{PORT if port is None else port}/{db}"
