"""Agent login: a token from settings opens a server-side session (a random id in a signed
cookie), or is sent as a Bearer header; failed attempts are throttled per client."""
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
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.config import Settings
from app.store.agent_sessions import SESSION_HOURS, AgentSessions

auth = Blueprint("auth", __name__, template_folder="templates", static_folder="static",
                 static_url_path="/agent/static")
F = TypeVar("F", bound=Callable[..., object])
NOT_CONFIGURED = "The agent pages are disabled: set IVR_AGENT_TOKEN to enable the agent pages."
# Wrong tokens (a login form, a Bearer header) a client may send before it must wait: shared by
# every agent page and JSON view, counted per client address (per worker without REDIS_URL).
FAILED_LOGINS = "10 per minute;30 per hour"
# What an agent page may load and who may frame it: our own files only, framed by nobody.
CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def configure_sessions(app: Flask, settings: Settings, sessions: AgentSessions) -> Limiter:
    """Session cookie rules, the server-side session store and the failed-login throttle."""
    app.secret_key = session_key(settings)
    app.session_interface = AgentCookieSessions()
    app.extensions["ivr_agent_sessions"] = sessions
    app.config.update(
        SESSION_COOKIE_NAME="ivr_agent",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax keeps the cookie off cross-site POSTs: a second guard next to the CSRF token.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )
    return Limiter(get_remote_address, app=app, storage_uri=settings.redis_url or "memory://",
                   strategy="moving-window")


def guard(app: Flask, limiter: Limiter, blueprints: tuple[Blueprint, ...], https: bool) -> None:
    """Throttle failed logins across these blueprints; give their pages the security headers."""
    failed = limiter.shared_limit(FAILED_LOGINS, scope="agent-login",
                                  deduct_when=lambda response: response.status_code == 401)
    for blueprint in blueprints:
        failed(blueprint)
    names = {blueprint.name for blueprint in blueprints}
    app.after_request(lambda response: security_headers(response, https) if request.blueprint in names
                      else response)


def security_headers(response: Response, https: bool) -> Response:
    """Headers every agent page carries (the pages show callers' details: never cached)."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    if https:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


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
    """The cookie-signing key: derived from the Twilio token, never from the agent token."""
    return hmac.new(settings.twilio_auth_token.encode(), b"ivr-agent-session-cookie", hashlib.sha256).digest()


def _settings() -> Settings:
    return current_app.extensions["ivr"].settings


def _sessions() -> AgentSessions:
    return current_app.extensions["ivr_agent_sessions"]


def token_matches(given: str | None) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    expected = _settings().agent_token
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def logged_in() -> bool:
    """True when this browser holds an open server-side session."""
    return _sessions().valid(str(session.get("agent", "")))


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
    session["agent"] = _sessions().open()      # a fresh random id: nothing carried over
    return redirect(_safe_next() or url_for("agent.index"))


@auth.post("/agent/logout")
def logout() -> Response:
    """End the session (a POST with the CSRF token, so a link elsewhere cannot log you out)."""
    check_csrf()
    _sessions().close(str(session.get("agent", "")))    # a saved copy of the cookie opens nothing now
    session.clear()
    return redirect(url_for("auth.login"))


def _safe_next() -> str:
    """The page to return to after login: only a path on this site (no open redirect)."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return ""
    return target if "\\" not in target else ""
