"""Fault injection: 502s, connection resets, slow answers, secondary rate limits, expired tokens."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

KINDS = ("502", "reset", "slow", "secondary_403", "secondary_403_retry_after", "expired_token_401")


@dataclass
class FaultConfig:
    rate: float = 0.0
    kinds: list[str] = field(default_factory=lambda: ["502"])
    seed: int | None = None
    methods: list[str] | None = None
    path_regex: str | None = None
    apply_then_fail: bool = False
    slow_seconds: float = 12.0
    only: str = "app"
    retry_after: int = 1
    max_counts: dict[str, int] = field(default_factory=dict)  # kind → most injections (then spared)


class Faults:
    """Decides, per request, whether to inject a fault (seeded, so runs repeat exactly)."""

    def __init__(self):
        self.config: FaultConfig | None = None
        self.rng = random.Random(0)
        self.counts: dict[str, int] = {}
        self.considered = 0

    def configure(self, body: dict) -> FaultConfig:
        """Install a fault configuration from the admin JSON body; raises ValueError on bad input."""
        cfg = FaultConfig(
            rate=float(body.get("rate", 0.0)), kinds=list(body.get("kinds") or ["502"]), seed=body.get("seed"),
            methods=[m.upper() for m in body["methods"]] if body.get("methods") else None,
            path_regex=body.get("path_regex"), apply_then_fail=bool(body.get("apply_then_fail")),
            slow_seconds=float(body.get("slow_seconds", 12)), only=body.get("only", "app"),
            retry_after=int(body.get("retry_after", 1)),
            max_counts={str(k): int(v) for k, v in (body.get("max_counts") or {}).items()},
        )
        unknown = (set(cfg.kinds) | set(cfg.max_counts)) - set(KINDS)
        if (unknown or cfg.only not in ("app", "user", "all") or not 0 <= cfg.rate <= 1
                or cfg.retry_after < 0):
            raise ValueError(f"bad fault configuration: {sorted(unknown)}")
        if any(n < 0 for n in cfg.max_counts.values()):
            raise ValueError("bad fault configuration: max_counts must be ≥ 0")
        self.config = cfg
        self.rng = random.Random(cfg.seed)
        self.counts = {}
        self.considered = 0
        return cfg

    def clear(self) -> None:
        self.config = None

    def pick(self, method: str, path: str, actor_kind: str | None, fresh_token: bool = False) -> str | None:
        """The fault kind to inject for this request, or None. ``expired_token_401`` hits only
        installation tokens (``actor_kind`` "app"), and not a token's first request
        (``fresh_token``): GitHub rejects a token early when it was revoked or rotated, not the
        moment it is minted, so the App's answer to a 401 (a new token) must be able to succeed."""
        cfg = self.config
        if cfg is None or path.startswith("/_emulator") or cfg.rate <= 0:
            return None
        if cfg.only != "all":
            wanted = {"app": ("app", "jwt"), "user": ("user",)}[cfg.only]
            if actor_kind not in wanted:
                return None
        if cfg.methods and method.upper() not in cfg.methods:
            return None
        if cfg.path_regex and not re.search(cfg.path_regex, path):
            return None
        self.considered += 1
        if self.rng.random() >= cfg.rate:
            return None
        kind = self.rng.choice(cfg.kinds)
        if kind == "expired_token_401" and (actor_kind != "app" or fresh_token):
            return None  # only an installation token can expire; a JWT is signed per request
        limit = cfg.max_counts.get(kind)
        if limit is not None and self.counts.get(kind, 0) >= limit:
            return None
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return kind

    def summary(self) -> dict:
        cfg = self.config
        return {"active": cfg is not None, "config": cfg.__dict__ if cfg else None, "counts": dict(self.counts),
                "considered": self.considered}
