"""End-to-end tests run the emulator, Wavegate under gunicorn, an RQ worker and Redis as separate
processes on loopback (demo.stack.Stack). Redis database 10 is theirs."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from demo.stack import Stack
from tests.redisdb import redis_url

REDIS_URL = redis_url(10)


def running_stack(request, prefix: str) -> Iterator[Stack]:
    """A started Stack for a module-scoped fixture; its process logs are kept when a test failed."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    with Stack(workdir, redis_url=REDIS_URL) as running:
        yield running
    if request.session.testsfailed:
        print(f"process logs kept in {workdir}/logs")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
