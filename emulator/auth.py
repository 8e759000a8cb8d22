"""Authentication as GitHub does it: App JWTs (RS256), installation tokens and user tokens."""

from __future__ import annotations

import secrets
import time

import jwt

from .state import Actor, State, Token

TOKEN_TTL = 3600  # installation tokens live one hour
JWT_MAX_AHEAD = 600  # a JWT may expire at most 10 minutes after it was issued
CLOCK_SKEW = 60


class AuthError(Exception):
    """Authentication failed; ``status`` and ``message`` are the HTTP answer."""

    def __init__(self, message: str = "Bad credentials", status: int = 401):
        super().__init__(message)
        self.message = message
        self.status = status


def verify_jwt(state: State, token: str) -> Actor:
    """Check an App JWT: signature with the app's public key, ``iss`` = app id, ``exp``/``iat`` window.

    Raises AuthError(401) on any failure, with GitHub's messages for expiry and the issued-at check.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        app = state.apps.get(int(claims.get("iss")))
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise AuthError("A JSON web token could not be decoded") from exc
    if app is None:
        raise AuthError("Integration not found", 401)
    try:
        claims = jwt.decode(token, app.public_key, algorithms=["RS256"], leeway=CLOCK_SKEW,
                            options={"require": ["iat", "exp", "iss"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("'Expiration time' claim ('exp') must be a numeric value representing the future "
                        "time at which the assertion expires") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("A JSON web token could not be decoded") from exc
    now = time.time()
    if claims["iat"] > now + CLOCK_SKEW:
        raise AuthError("'Issued at' claim ('iat') must be an Integer representing the time that the "
                        "assertion was issued")
    if claims["exp"] - max(claims["iat"], now - CLOCK_SKEW) > JWT_MAX_AHEAD + CLOCK_SKEW:
        raise AuthError("'Expiration time' claim ('exp') is too far in the future")
    return Actor("jwt", app_id=app.id)


def authenticate(state: State, header: str | None) -> Actor | None:
    """The actor behind an ``Authorization`` header; None when absent; AuthError when invalid.

    ``Bearer <jwt>`` is an App; ``token X`` or ``Bearer X`` with an installation (``ghs_``) or user
    token is that installation or user.
    """
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() not in ("token", "bearer") or not value:
        raise AuthError()
    if value.count(".") == 2 and scheme.lower() == "bearer":
        return verify_jwt(state, value)
    tok = state.tokens.get(value)
    if tok is not None:
        if tok.expires_at < time.time():
            raise AuthError()
        inst = state.installations.get(tok.installation_id)
        if inst is None:
            raise AuthError()
        tok.uses += 1
        return Actor("app", app_id=inst.app_id, installation_id=inst.id)
    login = state.user_tokens.get(value)
    if login is not None:
        return Actor("user", login=login)
    raise AuthError()


def mint_installation_token(state: State, installation_id: int, permissions: dict[str, str] | None) -> Token:
    """A fresh ``ghs_`` token for the installation, valid for one hour."""
    tok = Token("ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b"), installation_id,
                time.time() + TOKEN_TTL, dict(permissions or {}))
    state.tokens[tok.token] = tok
    return tok


def first_use(state: State, header: str | None) -> bool:
    """Whether the installation token in ``header`` has just answered its first request."""
    tok = state.tokens.get((header or "").strip().partition(" ")[2].strip())
    return tok is not None and tok.uses == 1


def expire_token(state: State, token: str) -> None:
    """Make ``token`` expired (used by the expired_token_401 fault)."""
    tok = state.tokens.get(token)
    if tok:
        tok.expires_at = 0
