"""HTTP helpers shared by the REST handlers: errors, JSON answers, GitHub-style pagination."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Response, request

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error answer: GitHub's ``{"message", "documentation_url"}`` body (plus ``errors`` for 422)."""

    def __init__(self, status: int, message: str, errors: list | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict:
        out = {"message": self.message, "documentation_url": DOCS}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation(message: str, resource: str = "", field: str = "", code: str = "custom") -> ApiError:
    """A 422 ``Validation Failed``-style error; GitHub puts the specific text in ``message`` or ``errors``."""
    return ApiError(422, message, errors=[{"resource": resource, "field": field, "code": code, "message": message}]
                    if resource else None)


def answer(body, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON response; ``None`` body gives an empty one (204)."""
    data = b"" if body is None else json.dumps(body).encode()
    resp = Response(data, status=status, mimetype="application/json" if body is not None else None)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def json_body() -> dict:
    """The request's JSON object (empty dict when there is none); 400 "Problems parsing JSON" otherwise."""
    raw = request.get_data()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "Problems parsing JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "Problems parsing JSON")
    return body


def page_params(default: int = 30, maximum: int = 100) -> tuple[int, int]:
    """(per_page, page) from the query: per_page defaults to 30 and is capped at 100, page starts at 1."""
    try:
        per_page = int(request.args.get("per_page", default))
    except ValueError:
        per_page = default
    try:
        page = int(request.args.get("page", 1))
    except ValueError:
        page = 1
    return max(1, min(per_page, maximum)), max(1, page)


def paginate(items: list, base_url: str, default: int = 30, maximum: int = 100) -> tuple[list, dict]:
    """One page of ``items`` and its ``Link`` header (rel next/last/first/prev), as GitHub sends it."""
    per_page, page = page_params(default, maximum)
    total_pages = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page: page * per_page]
    links = []

    def url(p: int) -> str:
        args = {k: v for k, v in request.args.items() if k != "page"}
        args["page"] = str(p)
        return f"{base_url}{request.path}?{urlencode(args)}"

    if page > 1:
        links.append(f'<{url(page - 1)}>; rel="prev"')
    if page < total_pages:
        links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(total_pages)}>; rel="last"')
    if page > 1:
        links.append(f'<{url(1)}>; rel="first"')
    return chunk, ({"Link": ", ".join(links)} if links else {})
