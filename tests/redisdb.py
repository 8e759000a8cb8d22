"""Where the test suites find Redis: the server ``REDIS_URL`` names (default 127.0.0.1:6379), each
suite on its own database number, which it flushes (README: 10 e2e, 11 app, 12 deploy, 13–14
reliability and hostile, 15 bench). ``WAVEGATE_TEST_REDIS_PORT``, when set, still replaces the port."""

import os

from demo.stack import redis_url_for


def redis_url(db: int, port: int | None = None) -> str:
    """``REDIS_URL`` with database ``db``; ``port`` (a server a test started itself) gives
    ``redis://127.0.0.1:<port>/<db>`` instead."""
    alias = os.environ.get("WAVEGATE_TEST_REDIS_PORT")
    if port is None and not alias:
        return redis_url_for(db)
    return f"redis://127.0.0.1:{port or alias}/{db}"


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
