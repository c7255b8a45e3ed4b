"""Agent login: a token from settings, kept in a signed session cookie or sent as a Bearer header."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import wraps
from typing import Callable, TypeVar
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, Request, Response, abort, current_app, jsonify, redirect,
                   render_template, request, session, url_for)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from app.config import Settings

auth = Blueprint("auth", __name__, template_folder="templates", static_folder="static",
                 static_url_path="/agent/static")
F = TypeVar("F", bound=Callable[..., object])
NOT_CONFIGURED = "The agent pages are disabled: set IVR_AGENT_TOKEN to enable the agent pages."
# An agent's shift; after it the login form is shown again.
SESSION_HOURS = 12


def configure_sessions(app: Flask, settings: Settings) -> None:
    """Give the app a session key derived from settings, and cookie rules for the agent login."""
    app.secret_key = session_key(settings)
    app.session_interface = AgentCookieSessions()
    app.config.update(
        SESSION_COOKIE_NAME="ivr_agent",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax keeps the cookie off cross-site POSTs: a second guard next to the CSRF token.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )


class AgentCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, skipping the signer when a request has no cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """An empty session for cookieless requests (every Twilio webhook); else Flask's own."""
        # Flask builds an itsdangerous serializer for every request before looking for the
        # cookie: measured, about 5 % of a webhook's CPU, for a session no webhook uses.
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def session_key(settings: Settings) -> bytes:
    """HMAC of the agent token under the Twilio token: never stored, changes when either does."""
    material = f"ivr-agent-session:{settings.agent_token or ''}".encode()
    return hmac.new(settings.twilio_auth_token.encode(), material, hashlib.sha256).digest()


def _settings() -> Settings:
    return current_app.extensions["ivr"].settings


def token_matches(given: str | None) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    expected = _settings().agent_token
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _fingerprint() -> str:
    # Stored in the session instead of a bare flag, so a rotated token logs everybody out.
    token = (_settings().agent_token or "").encode()
    return hmac.new(token, b"agent-login", hashlib.sha256).hexdigest()


def logged_in() -> bool:
    """True when this browser logged in with the current token."""
    return hmac.compare_digest(str(session.get("agent", "")), _fingerprint())


def _bearer_ok() -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token_matches(token.strip())


def agent_page(view: F) -> F:
    """HTML page for logged-in agents; anonymous visitors are sent to the login form."""
    @wraps(view)
    def guarded(*args: object, **kwargs: object) -> object:
        if not _settings().agent_token:
            return _not_configured(json=False)
        if not logged_in():
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return guarded  # type: ignore[return-value]


def agent_json(view: F) -> F:
    """JSON twin for a logged-in browser or a CRM presenting `Authorization: Bearer <token>`."""
    @wraps(view)
    def guarded(*args: object, **kwargs: object) -> object:
        if not _settings().agent_token:
            return _not_configured(json=True)
        if not (_bearer_ok() or logged_in()):
            response = jsonify(error="unauthorized: log in or send Authorization: Bearer <token>")
            response.headers["WWW-Authenticate"] = 'Bearer realm="ivr-agent"'
            return response, 401
        return view(*args, **kwargs)
    return guarded  # type: ignore[return-value]


def _not_configured(json: bool) -> tuple[object, int]:
    if json:
        return jsonify(error=NOT_CONFIGURED), 403
    return render_template("message.html", title="Agent pages disabled", message=NOT_CONFIGURED), 403


def csrf_token() -> str:
    """A per-session random token that every agent form posts back."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse a form post whose token is not this session's (a forged cross-site request)."""
    sent = request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, str(session.get("csrf", ""))):
        abort(400, description="The form expired or did not come from this site; reload the page.")


@auth.app_context_processor
def _template_helpers() -> dict[str, object]:
    return {"csrf_token": csrf_token, "agent_logged_in": logged_in}


@auth.route("/agent/login", methods=["GET", "POST"])
def login() -> object:
    """The login form; a right token starts a session and returns to the page asked for."""
    if not _settings().agent_token:
        return _not_configured(json=False)
    error, status = "", 200
    if request.method == "POST":
        if token_matches(request.form.get("token")):
            return _start_session()
        error, status = "That token is not right.", 401
    return render_template("login.html", error=error, next=_safe_next()), status


def _start_session() -> Response:
    session.clear()
    session.permanent = True
    session["agent"] = _fingerprint()
    return redirect(_safe_next() or url_for("agent.index"))


@auth.post("/agent/logout")
def logout() -> Response:
    """End the session (a POST with the CSRF token, so a link elsewhere cannot log you out)."""
    check_csrf()
    session.clear()
    return redirect(url_for("auth.login"))


def _safe_next() -> str:
    """The page to return to after login: only a path on this site (no open redirect)."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return ""
    return target if "\\" not in target else ""
