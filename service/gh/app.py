"""The App's own calls (JWT) and the construction of installation ports: the installation token
(``POST /app/installations/{id}/access_tokens``, minted lazily and renewed by PyGithub), the
App's installations and its webhook deliveries. ``settings.github_api_url`` is the REST base:
``https://api.github.com``, or ``https://HOST/api/v3`` on GitHub Enterprise Server (``GHE_HOST``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from github import Auth, GithubException, GithubIntegration
from requests.utils import parse_header_links

from ..records import Delivery
from .client import PyGithubPort, default_retry
from .errors import map_error
from .memo import ChangeMemo
from .pacing import LocalPacer, Pacer
from .parse import PER_PAGE, header, when
from .port import GitHubPort

# --------------------------------------------------------------------------- construction

_pacers: dict[int, LocalPacer] = {}
PUBLIC_API = "https://api.github.com"


def api_base(settings: Any) -> str:
    """The REST base URL every call of the App goes to: ``settings.github_api_url`` when it names
    another host, else ``https://<ghe_host>/api/v3`` when ``GHE_HOST`` is set (GitHub Enterprise
    Server serves its REST API under ``/api/v3``), else ``https://api.github.com``."""
    url = (getattr(settings, "github_api_url", None) or PUBLIC_API).rstrip("/")
    host = getattr(settings, "ghe_host", None)
    if url == PUBLIC_API and host:
        return f"https://{host}/api/v3"
    return url


def integration(settings: Any, **overrides: Any) -> GithubIntegration:
    """The App client: JWT auth (``settings.app_id``, ``settings.private_key``), explicit bounded
    retries (PyGithub's GithubIntegration defaults to none), ``per_page=100``, ``lazy=True``.
    ``overrides`` replace any keyword (tests pass ``retry=None`` and no throttling)."""
    kwargs: dict[str, Any] = {
        "auth": Auth.AppAuth(int(settings.app_id), settings.private_key),
        "base_url": api_base(settings),
        "retry": default_retry(), "per_page": PER_PAGE, "lazy": True,
        # Pacing is ours (``service.gh.pacing``: writes, shared across worker processes). PyGithub's own
        # throttles would double it, and its 0.25 s between *all* requests costs a check seconds.
        "seconds_between_writes": None, "seconds_between_requests": None,
    }
    kwargs.update(overrides)
    return GithubIntegration(**kwargs)


_clients: dict[tuple[int, int, str], Any] = {}
_clients_guard = threading.Lock()


def _installation_client(settings: Any, installation_id: int, overrides: dict[str, Any]) -> Any:
    """The PyGithub ``Github`` of ``installation_id``, one per process when ``overrides`` is
    empty: its ``AppInstallationAuth`` keeps the installation token and renews it shortly before
    it expires (GitHub issues it for an hour), so a long-lived worker mints one token per
    installation an hour instead of one per job. A rejected token is dropped and re-minted by
    the port (``_drop_installation_token``)."""
    if overrides:
        return integration(settings, **overrides).get_github_for_installation(installation_id)
    url = api_base(settings)
    key = (int(installation_id), int(settings.app_id), url)
    with _clients_guard:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = integration(settings).get_github_for_installation(installation_id)
        return client


Instrument = Callable[[Any], Any]  # wraps a PyGithub ``Requester`` (e.g. to count its requests)


def github_for_installation(settings: Any, installation_id: int, *, pacer: Pacer | None = None,
                            memo: ChangeMemo | None = None, instrument: Instrument | None = None,
                            **overrides: Any) -> GitHubPort:
    """A port acting as the App's installation ``installation_id``. The installation token is
    minted lazily on the first request, kept by the process's client for that installation and
    refreshed by PyGithub before it expires; GETs are conditional (``_ETagCache``). Writes are
    paced by ``pacer`` (default: one in-process ``LocalPacer`` per installation); PR change sets
    are memoised in ``memo`` (default: this process only). ``instrument`` is the metrics hook: it
    receives the client's ``Requester`` and returns the one the port sends through. ``overrides``
    (tests) build a client of their own."""
    gh = _installation_client(settings, installation_id, overrides)
    if pacer is None:
        pacer = _pacers.setdefault(installation_id, LocalPacer())
    slug = getattr(settings, "app_slug", None) or None
    requester = instrument(gh.requester) if instrument is not None else gh.requester
    return PyGithubPort(requester, key=str(installation_id), pacer=pacer,
                        dry_run=bool(getattr(settings, "dry_run", False)),
                        bot_login=f"{slug}[bot]" if slug else None, memo=memo)


def _app_call(gi: GithubIntegration, verb: str, path: str, **kw: Any) -> tuple[dict[str, Any], Any]:
    try:
        return gi.requester.requestJsonAndCheck(verb, path, **kw)
    except (GithubException, requests.exceptions.RequestException) as exc:
        raise map_error(exc, f"{verb} {path.split('?', 1)[0]}") from None


def app_installations(settings: Any, *, pacer: Pacer | None = None,
                      **overrides: Any) -> list[tuple[int, list[str]]]:
    """Every installation id of the App with the full names of its repositories:
    ``GET /app/installations`` (JWT), then per installation ``GET /installation/repositories``
    with its token, honouring the installation's rate-limit pause in ``pacer`` (the workers'
    shared one; default: this process only). For the periodic reconcile."""
    gi = integration(settings, **overrides)
    result = []
    for inst in gi.get_installations():
        gh = _installation_client(settings, inst.id, overrides)
        port = PyGithubPort(gh.requester, key=str(inst.id), pacer=pacer)
        names = [r["full_name"] for r in port._pages("/installation/repositories", key="repositories")]
        result.append((inst.id, names))
    return result


DELIVERY_PAGES = 10  # pages of 100 the redelivery sweep reads at most, newest first


def list_failed_deliveries(settings: Any, *, since: datetime | None = None, pages: int = DELIVERY_PAGES,
                           **overrides: Any) -> list[Delivery]:
    """App webhook deliveries that failed (status code not 2xx) and have not been redelivered
    successfully since: ``GET /app/hook/deliveries?per_page=100`` (JWT; PyGithub has no wrapper),
    newest first, then the ``rel="next"`` link of each answer's ``Link`` header (GitHub pages this
    endpoint with a ``cursor``, not a page number) for at most ``pages`` pages, and no further
    than the first delivery older than ``since``. Returns newest first."""
    gi = integration(settings, **overrides)
    params: dict[str, Any] | None = {"per_page": PER_PAGE}
    deliveries: list[Delivery] = []
    for _ in range(max(1, pages)):
        headers, data = _app_call(gi, "GET", "/app/hook/deliveries", parameters=params)
        page = [_delivery(d) for d in data or ()]
        deliveries += page
        params = _next_page(headers)
        if not params or not page or _reaches_before(page, since):
            break
    return _still_failed(deliveries, since)


def _delivery(d: Mapping[str, Any]) -> Delivery:
    return Delivery(id=int(d["id"]), guid=d.get("guid", ""), event=d.get("event", ""),
                    status_code=int(d.get("status_code") or 0), redelivery=bool(d.get("redelivery")),
                    delivered_at=when(d.get("delivered_at")))


def _next_page(headers: Any) -> dict[str, Any] | None:
    """The query of the ``rel="next"`` link (per_page and cursor), or None on the last page."""
    for link in parse_header_links(header(headers, "link") or ""):
        if link.get("rel") == "next":
            return dict(parse_qsl(urlsplit(link["url"]).query))
    return None


def _reaches_before(page: list[Delivery], since: datetime | None) -> bool:
    return since is not None and any(d.delivered_at is not None and d.delivered_at < since for d in page)


def _still_failed(deliveries: list[Delivery], since: datetime | None) -> list[Delivery]:
    """Failed deliveries (status not 2xx) whose GUID never succeeded, no older than ``since``."""
    ok = {d.guid for d in deliveries if 200 <= d.status_code < 300}
    return [d for d in deliveries if not 200 <= d.status_code < 300 and d.guid not in ok
            and (since is None or d.delivered_at is None or d.delivered_at >= since)]


def redeliver(settings: Any, delivery_id: int, **overrides: Any) -> None:
    """``POST /app/hook/deliveries/{id}/attempts`` (JWT): GitHub sends the delivery again with the
    same ``X-GitHub-Delivery`` GUID."""
    gi = integration(settings, **overrides)
    _app_call(gi, "POST", f"/app/hook/deliveries/{delivery_id}/attempts")
