"""Twilio voice webhooks: signed requests in, TwiML out."""
from __future__ import annotations

import logging
from typing import Callable

from flask import Blueprint, Response, abort, current_app, jsonify, request
from twilio.twiml.voice_response import Gather, VoiceResponse

from app.dialog.actions import Hangup, Listen, RecordMessage
from app.dialog.events import AgentAnswered, Digits, NoInput, TechnicalFault, TransferEnded, WhisperStarted
from app.dialog.state import CallState
from app.dialog.summary import build as build_summary, whisper as whisper_summary
from app.dialog.wording import speakable
from app.engine import Handover, Reply
from app.services import Services
from app.telephony import forms, twiml
from app.telephony.rest import LiveCallError

log = logging.getLogger(__name__)
voice = Blueprint("voice", __name__)
XML = "text/xml"
MAX_RECONNECTS = 3
# Twilio's webhooks carry about 30 fields in 2 KB; these bounds leave room and refuse floods.
MAX_BODY_BYTES = 64 * 1024
MAX_FORM_FIELDS = 200
CALLER_GONE = "The caller hung up before you joined. Goodbye."


def services() -> Services:
    """The objects create_app wired for this app."""
    return current_app.extensions["ivr"]


@voice.before_request
def check_signature() -> None:
    """Refuse anything not signed by Twilio with our auth token; nothing is touched before this."""
    if request.endpoint == "voice.healthz":
        return
    # The form must be parsed to check its signature: bound what an unsigned body can cost first
    # (its size by MAX_CONTENT_LENGTH, a 413 from get_data; its number of fields here).
    if request.get_data(cache=True).count(b"&") >= MAX_FORM_FIELDS:
        log.warning("refused %s: more than %d form fields", request.path, MAX_FORM_FIELDS)
        abort(413)
    signature = request.headers.get("X-Twilio-Signature")
    if not services().signatures.valid(request.full_path, request.form, signature):
        log.warning("refused %s: bad or missing Twilio signature", request.path)
        abort(403)


@voice.errorhandler(forms.BadRequest)
def bad_form(exc: forms.BadRequest) -> tuple[Response, int]:
    """A malformed webhook gets a clear 400, never a 500."""
    return jsonify(error=str(exc)), 400


@voice.get("/healthz")
def healthz() -> Response:
    """Ready when the app is wired (models and data loaded in create_app)."""
    svc = services()
    pending = getattr(svc.records, "pending", 0)      # writes this worker still holds in memory
    return jsonify(status="ok", transport=svc.settings.transport, asr=svc.asr_name, records_pending=pending)


@voice.post("/voice/incoming")
def incoming() -> Response:
    """A new call: greet (keypad/record) or open the media stream (stream)."""
    call = forms.CallStarted.from_form(request.form)
    svc = services()
    reply = svc.engine.start(call.call_sid, call.caller, call.called)
    if svc.settings.transport == "stream":
        return _stream(call.call_sid, call.caller)
    return _twiml(reply)


@voice.post("/voice/reconnect")
def reconnect() -> Response:
    """The media stream dropped mid-call: open it again (the call's state is kept)."""
    call = forms.CallStarted.from_form(request.form)
    svc = services()
    attempt = request.args.get("attempt", "1")
    state = svc.engine.state(call.call_sid)
    if state is None or state.ended:
        return _xml(_hangup_twiml())
    if not attempt.isdigit() or int(attempt) > MAX_RECONNECTS:
        return fallback()
    log.warning("call %s: media stream dropped; reconnecting (attempt %s)", call.call_sid, attempt)
    return _stream(call.call_sid, call.caller, int(attempt))


@voice.post("/voice/gather")
def gather() -> Response:
    """Keys pressed during a prompt, or nothing (the Gather timed out)."""
    keys = forms.KeysPressed.from_form(request.form)
    return _turn(keys.call_sid, lambda engine, state: engine.handle(
        keys.call_sid, Digits(keys.digits) if keys.digits else NoInput(), loaded=state))


@voice.post("/voice/recording")
def recording() -> Response:
    """Record transport: the caller's turn was recorded; recognise it offline."""
    rec = forms.Recording.from_form(request.form)
    svc = services()
    if rec.digits and rec.digits not in ("#", "hangup"):
        return _turn(rec.call_sid, lambda engine, state: engine.handle(rec.call_sid, Digits(rec.digits), loaded=state))
    if not rec.url or rec.duration <= 0 or svc.recordings is None:
        return _turn(rec.call_sid, lambda engine, state: engine.handle(rec.call_sid, NoInput(), loaded=state))
    return _turn(rec.call_sid, lambda engine, _: svc.recordings.recognise_turn(rec.call_sid, rec.url))


@voice.post("/voice/recorded")
def recorded() -> Response:
    """A voicemail was left (or not): store it as a callback request."""
    rec = forms.Recording.from_form(request.form)
    svc = services()
    if svc.recordings is None or not rec.url:
        return _turn(rec.call_sid, lambda engine, state: engine.handle(rec.call_sid, NoInput(), loaded=state))
    return _turn(rec.call_sid, lambda engine, _: svc.recordings.take_voicemail(rec.call_sid, rec.url))


@voice.post("/voice/dial-status")
def dial_status() -> Response:
    """The agent leg ended: bridged, or nobody took the call (then ring the next agent)."""
    ended = forms.DialEnded.from_form(request.form, request.args.get("attempt"))
    svc = services()
    state = svc.engine.state(ended.call_sid)
    unanswered = ended.status != "completed" or (state is not None and not state.agent_accepted)
    caller_waits = state is None or state.node != "ended"
    if caller_waits and unanswered and ended.attempt + 1 < len(svc.settings.agent_numbers):
        response = VoiceResponse()
        twiml.dial_agent(response, svc.style, ended.attempt + 1)
        return _xml(str(response))
    return _turn(ended.call_sid, lambda engine, state: engine.handle(ended.call_sid, TransferEnded(ended.status),
                                                                   loaded=state))


@voice.post("/voice/whisper")
def whisper() -> Response:
    """The agent's leg: hear the summary, press 1 to take the call."""
    parent = _parent_sid()
    svc = services()
    state = svc.engine.state(parent)
    if state is not None and _caller_gone(state):
        return _xml(_caller_gone_twiml())
    if state is not None:
        agent_leg = (request.form.get("CallSid") or "").strip()
        state = svc.engine.handle(parent, WhisperStarted(agent_leg if forms.is_sid(agent_leg) else ""),
                                  loaded=state).state or state
    lang = svc.settings.agents_lang           # the agents' language, not the caller's
    words = svc.agent_words
    text = whisper_summary(build_summary(state, state.transfer_reason), words) if state else words.frame("incoming")
    response = VoiceResponse()
    gather_keys = Gather(input="dtmf", num_digits=1, timeout=6, method="POST",
                         action=svc.style.url("/voice/whisper/answer", parent=parent))
    page = [words.frame("page")] if svc.settings.agent_token else []
    gather_keys.say(" ".join([speakable(text), *page, words.frame("take")]),
                    language=twiml.SAY_LANGUAGES.get(lang, svc.style.language) if lang != svc.settings.lang
                    else svc.style.language)
    response.append(gather_keys)
    response.hangup()
    return _xml(str(response))


@voice.post("/voice/whisper/answer")
def whisper_answer() -> Response:
    """1 accepts (empty TwiML bridges the call); anything else declines."""
    parent = forms.call_sid(request.args["parent"], "parent") if request.args.get("parent") else _parent_sid()
    accepted = (request.form.get("Digits") or "").strip() == "1"
    svc = services()
    state = svc.engine.state(parent)
    if state is not None and _caller_gone(state):
        return _xml(_caller_gone_twiml())      # bridging now would connect the agent to nobody
    if state is not None:
        svc.engine.handle(parent, AgentAnswered(accepted), loaded=state)
    response = VoiceResponse()
    if not accepted:
        response.hangup()
    return _xml(str(response))


@voice.post("/voice/status")
def status() -> tuple[str, int]:
    """Twilio's status callback: a finished call closes its record."""
    call = forms.CallStatus.from_form(request.form)
    if call.status in ("completed", "busy", "failed", "no-answer", "canceled"):
        reply = services().engine.hang_up(call.call_sid)
        if reply is not None and reply.state is not None and reply.state.abandoned_at == "agent whisper":
            _tell_agent_caller_gone(reply.state)
    return "", 204


@voice.post("/voice/fallback")
def fallback() -> Response:
    """Twilio calls this when our main webhook failed: apologise and reach a person.

    Through the engine, so the call is marked as handed over and the agent leg's outcome (no
    answer: a message or a callback) runs as after any transfer. Only when even that yields
    nothing does the fixed apology and <Dial> go out: never an empty document.
    """
    svc = services()
    sid = (request.form.get("CallSid") or "").strip()
    reply = svc.engine.handle(sid, TechnicalFault()) if forms.is_sid(sid) else Reply()
    if any(isinstance(o, Handover) for o in reply.outputs):
        return _xml(twiml.render(reply, svc.style))
    response = VoiceResponse()
    response.say("Sorry, we're having a technical problem. Connecting you to a person.",
                 language=svc.style.language)
    twiml.dial_agent(response, svc.style)
    return _xml(str(response))


def _caller_gone(state: CallState) -> bool:
    """The caller hung up before an agent took the call."""
    return state.node == "ended" and not state.agent_accepted and state.outcome != "transferred"


def _caller_gone_twiml() -> str:
    response = VoiceResponse()
    response.say(CALLER_GONE, language=services().style.language)
    response.hangup()
    return str(response)


def _tell_agent_caller_gone(state: CallState) -> None:
    """The agent is hearing the whisper of a caller who just left: switch their leg to say so."""
    rest = services().rest
    if not state.agent_call_sid or rest is None:
        return
    try:
        rest.update_call(state.agent_call_sid, _caller_gone_twiml())
    except LiveCallError:
        log.warning("call %s: could not tell the agent's leg that the caller left", state.call_sid)


def _turn(call_sid: str, handle: Callable[..., Reply]) -> Response:
    """Run one caller turn; a call we do not know yet is started instead of failing."""
    # handle(engine, state) gets the state just loaded, so the engine need not read it again.
    engine = services().engine
    try:
        state = engine.load(call_sid)
    except Exception:  # noqa: BLE001 - the engine hands the caller over, keeping what they keyed or said
        log.warning("call %s: session store unavailable on a turn webhook", call_sid)
        return _twiml(handle(engine, None))
    if state is None:
        log.warning("call %s: unknown call on a turn webhook; starting it", call_sid)
        return _twiml(engine.start(call_sid, request.form.get("From", "")))
    return _twiml(handle(engine, state))


def _parent_sid() -> str:
    if request.form.get("ParentCallSid"):
        return forms.call_sid(request.form["ParentCallSid"], "ParentCallSid")
    return forms.call_sid(request.args.get("parent") or "", "ParentCallSid")


def _twiml(reply: Reply) -> Response:
    svc = services()
    if not reply.outputs:
        reply = _never_empty(reply)
    if svc.settings.transport == "stream" and reply.state is not None and _waits_for_caller(reply):
        # Back to the media stream: the voice session there speaks the reply's prompts.
        return _stream(reply.state.call_sid, reply.state.caller)
    return _xml(twiml.render(reply, svc.style))


def _never_empty(reply: Reply) -> Reply:
    """An empty <Response/> hangs up in silence: re-ask a caller still in the dialog, else hang up."""
    state = reply.state
    if state is not None and state.node != "ended":
        return services().engine.reask(state)
    return Reply([Hangup(state.outcome if state else "hangup")], state)


def _stream(call_sid: str, caller: str, attempt: int = 0) -> Response:
    """<Connect><Stream> for this call, carrying a fresh token bound to its CallSid."""
    svc = services()
    return _xml(twiml.connect_stream(svc.style, svc.settings.stream_url, call_sid, caller,
                                     svc.stream_tokens.issue(call_sid), attempt))


def _waits_for_caller(reply: Reply) -> bool:
    return any(isinstance(o, (Listen, RecordMessage)) for o in reply.outputs)


def _hangup_twiml() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def _xml(body: str) -> Response:
    return Response(body, mimetype=XML)
