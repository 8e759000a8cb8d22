"""The comparison apps of the ingest benchmark, served by the same gunicorn configuration:

- ``floor:app`` — a bare WSGI callable that reads the body and answers 202 (the floor: what
  gunicorn itself costs per request);
- ``floor:rq_enqueue_app()`` — Wavegate's receiver with the delivery stored the straightforward way
  (``SET NX`` claim, RQ ``Queue.enqueue``, ``SET`` bind: 5 round trips) instead of
  ``queueing.ingest`` (one ``EVALSHA``), everything else identical.
"""

from __future__ import annotations

from service import queueing


def app(environ, start_response):
    """WSGI: drain the request body, answer ``202 Accepted`` with an empty JSON object."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    while length > 0:
        chunk = stream.read(min(length, 65536))
        if not chunk:
            break
        length -= len(chunk)
    start_response("202 Accepted", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]


def _claim_enqueue_bind(connection, queue, route, delivery_id):
    claim = queueing.claim_delivery(connection, delivery_id)
    if not claim.fresh:
        return queueing.Ingested("duplicate", claim.job_id)
    try:
        enqueued = queueing.enqueue(queue, route, delivery_id=delivery_id)
        queueing.bind_delivery(connection, delivery_id, enqueued.job_id)
    except Exception:
        queueing.release_delivery(connection, delivery_id)
        raise
    return queueing.Ingested("coalesced" if enqueued.coalesced else "enqueued", enqueued.job_id)


def rq_enqueue_app():
    """Wavegate's Flask app with the RQ ``enqueue`` store path (for comparison only)."""
    from service import webhook

    queueing.ingest = _claim_enqueue_bind
    return webhook.create_app()


class RsgiFloor:
    """RSGI: read the request body in the event loop, answer ``202 Accepted`` with an empty JSON
    object (what granian's RSGI interface itself costs per request, beside ``app`` on its WSGI
    interface)."""

    async def __rsgi__(self, scope, protocol):
        await protocol()
        protocol.response_bytes(202, [("content-type", "application/json")], b"{}")


rsgi_app = RsgiFloor()
