"""Where the test suites find Redis: 127.0.0.1 on ``WAVEGATE_TEST_REDIS_PORT`` (default 6379).
Each suite owns one database number (README: 9 demo, 10 e2e, 11 app, 12 deploy, 13–14
reliability and hostile, 15 bench) and flushes it; another port lets two runs share a machine."""

import os

PORT = int(os.environ.get("WAVEGATE_TEST_REDIS_PORT", "6379"))


def redis_url(db: int, port: int | None = None) -> str:
    """``redis://127.0.0.1:<port>/<db>``; ``port`` defaults to the suite's server."""
    return f"redis://127.0.0.1:{PORT if port is None else port}/{db}"


def fields(conn, key) -> list[tuple[bytes | None, bytes]]:
    """Every value stored at ``key``, whatever its type, as ``(field, value)`` pairs: the field is
    None for strings, lists, sets and sorted sets (members without their scores); hashes and
    stream entries give their field names. Other types give nothing."""
    kind = conn.type(key).decode()
    if kind == "string":
        return [(None, conn.get(key) or b"")]
    if kind == "hash":
        return list(conn.hgetall(key).items())
    if kind == "list":
        return [(None, v) for v in conn.lrange(key, 0, -1)]
    if kind == "set":
        return [(None, v) for v in conn.smembers(key)]
    if kind == "zset":
        return [(None, m) for m, _ in conn.zrange(key, 0, -1, withscores=True)]
    if kind == "stream":
        return [kv for _, entry in conn.xrange(key) for kv in entry.items()]
    return []
