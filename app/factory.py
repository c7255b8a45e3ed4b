"""Wiring: create_app(settings) is the one place objects are built and connected."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Callable

from flask import Flask
from prometheus_client import CollectorRegistry

from app.config import Settings
from app.dialog.summary import whisper
from app.engine import CallLanguage, CallObserver, Engine
from app.dialog.prompts import Prompts
from app.loading import load_languages, load_whisper_words
from app.nlu.grammar import Grammar
from app.nlu.intents import Matcher
from app.services import Services
from app.store.agent_sessions import AgentSessions
from app.store.business import SqlBusinessData
from app.store.database import create_schema, make_engine
from app.store.journal import RecordJournal
from app.store.messages import MessageStore
from app.store.recorder import RecordsObserver
from app.store.records import SqlCallRecords
from app.store.sessions import SessionStore, open_sessions
from app.telephony.security import SignatureChecker, StreamTokens
from app.telephony.twiml import TwimlStyle
from app.web.metrics import CallMetrics

log = logging.getLogger(__name__)


def create_app(settings: Settings, sessions: SessionStore | None = None,
               today: Callable[[], date] = date.today) -> Flask:
    """Build every object the server needs from `settings` and wire them into a Flask app."""
    app = Flask(__name__)
    from app.telephony.routes import MAX_BODY_BYTES
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES      # webhooks and agent forms are small
    services = build_services(settings, sessions, today)
    app.extensions["ivr"] = services
    from app.telephony.routes import voice
    from app.web.metrics import metrics_blueprint
    app.register_blueprint(voice)
    if services.voice is not None:
        from app.telephony.media import register_media
        register_media(app)
    app.register_blueprint(metrics_blueprint)
    register_web(app, settings)
    log.info("IVR ready: transport=%s lang=%s asr=%s", settings.transport, ",".join(settings.languages),
             services.asr_name)
    return app


def register_web(app: Flask, settings: Settings) -> None:
    """Agent pages and dashboard, behind a login keyed from settings."""
    from app.web.agent import agent
    from app.web.auth import auth, configure_sessions, guard
    from app.web.dashboard import dashboard
    limiter = configure_sessions(app, settings, app.extensions["ivr"].agent_sessions)
    for blueprint in (auth, agent, dashboard):
        app.register_blueprint(blueprint)
    guard(app, limiter, (auth, agent, dashboard), https=settings.public_url.startswith("https://"))


def build_services(settings: Settings, sessions: SessionStore | None = None,
                   today: Callable[[], date] = date.today,
                   observers: list[CallObserver] | None = None) -> Services:
    """The engine and adapters for one app (also used by the in-process simulator)."""
    loaded = load_languages(settings)
    agent_words = load_whisper_words(settings)
    grammar, prompts = loaded[settings.lang]
    matcher = Matcher(grammar)
    others = {lang: CallLanguage(p, Matcher(g)) for lang, (g, p) in loaded.items() if lang != settings.lang}
    db = make_engine(settings.database_url)
    create_schema(db)
    records = RecordJournal(SqlCallRecords(db))
    metrics = CallMetrics(CollectorRegistry())
    engine = Engine(
        sessions=sessions or open_sessions(settings.database_url, settings.redis_url, engine=db),
        business=SqlBusinessData(db),
        prompts=prompts,
        matcher=matcher,
        observers=[RecordsObserver(records, settings.lang), metrics, *(observers or [])],
        today=today,
        survey=settings.survey,
        verify_orders=settings.order_details == "verified",
        order_digits=settings.order_number_digits,
        languages=others,
        lang=settings.lang,
        lang_for=settings.lang_for,
        whisper_for=lambda summary: whisper(summary, agent_words),
    )
    services = Services(
        settings=settings,
        engine=engine,
        signatures=SignatureChecker(settings.twilio_auth_token, settings.public_url),
        style=twiml_style(settings),
        stream_tokens=StreamTokens(settings.twilio_auth_token),
        agent_sessions=AgentSessions(db, settings),
        records=records,
        metrics=metrics,
        messages=MessageStore(settings.data_dir / "messages"),
        agent_words=agent_words,
    )
    if settings.transport in ("stream", "record"):
        matchers = {lang: engine.languages[lang].matcher for lang in loaded}
        _add_voice(services, {lang: (g, matchers[lang], p) for lang, (g, p) in loaded.items()})
    return services


def _add_voice(services: Services, languages: dict[str, tuple[Grammar, Matcher, Prompts]]) -> None:
    """Speech recognition and synthesis: only deployments that hear the caller load them."""
    from app.voicewiring import build_rest, build_voice
    services.rest = build_rest(services.settings)
    services.voice, services.recordings, services.asr_name = build_voice(
        services.settings, services.engine, languages, services.style, services.rest, services.messages)
    services.voice = replace(services.voice, on_reply=services.metrics.observe_voice_reply)


def twiml_style(settings: Settings) -> TwimlStyle:
    """How this deployment's replies are written as TwiML."""
    return TwimlStyle(
        public_url=settings.public_url,
        transport=settings.transport,
        agent_numbers=settings.agent_numbers,
        ring_timeout_s=settings.ring_timeout_s,
        no_input_s=settings.no_input_s,
        max_utterance_s=settings.max_utterance_s,
        endpoint_silence_ms=settings.endpoint_silence_ms,
        language="en-US" if settings.lang == "en" else settings.lang,
    )
