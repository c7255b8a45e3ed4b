"""Agent pages: live and recent calls, open callback requests, one call in full; JSON twins for a CRM."""
from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, send_file, url_for
from markupsafe import Markup

from app.store.records import CallbackRequest, CallRecord, CallRecords
from app.web.auth import agent_json, agent_page, check_csrf

agent = Blueprint("agent", __name__, template_folder="templates")
RECENT_LIMIT = 50


def records() -> CallRecords:
    """The call records create_app wired for this app."""
    return current_app.extensions["ivr"].records


def mask_phone(number: str) -> str:
    """A caller number with all but its last four digits hidden ('+••••0100')."""
    digits = [ch for ch in number if ch.isdigit()]
    if len(digits) <= 4:
        return "•" * len(digits) if number else ""
    prefix = "+" if number.startswith("+") else ""
    return prefix + "•" * (len(digits) - 4) + "".join(digits[-4:])


# Phone-like runs (7+ digits, optional +); order numbers (5 digits) and times stay readable.
_PHONE_RUN = re.compile(r"\+?\d[\d\- ]{5,}\d")


def mask_phones_in(text: str) -> str:
    """Free text (a whisper summary, a note) with every phone-like number masked."""
    return _PHONE_RUN.sub(lambda m: mask_phone(m.group(0)) if _is_phone(m.group(0)) else m.group(0), text)


def _is_phone(run: str) -> bool:
    return sum(ch.isdigit() for ch in run) >= 7


@agent.app_template_filter("masked_text")
def _masked_text(text: str) -> str:
    return mask_phones_in(text or "")


@agent.app_template_filter("masked")
def _masked(number: str) -> str:
    return mask_phone(number or "")


@agent.app_template_filter("when")
def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@agent.app_template_filter("local")
def _local(moment: datetime | None, style: str = "datetime") -> Markup:
    """A <time> the page's script shows in the browser's zone (UTC, said so, without script)."""
    if moment is None:
        return Markup("")
    shown = moment.strftime("%H:%M:%S" if style == "time" else "%Y-%m-%d %H:%M:%S")
    return Markup('<time datetime="{}" data-style="{}">{} UTC</time>').format(
        moment.isoformat(), style, shown)


@agent.app_template_filter("clock")
def _clock(moment: datetime | None) -> str:
    return moment.strftime("%H:%M:%S") if moment else ""


@agent.app_template_filter("duration")
def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "live"
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


@agent.app_template_filter("offset")
def _offset(moment: datetime, start: datetime) -> str:
    """Time of a turn from the start of its call ('+1:05'), what an agent scans for."""
    return "+" + _duration(max(0.0, (moment - start).total_seconds()))


@agent.get("/agent")
@agent_page
def index() -> str:
    """Live calls, recent calls and open callback requests."""
    store = records()
    return render_template("agent.html", live=store.live(), recent=store.recent(limit=RECENT_LIMIT),
                           callbacks=store.callbacks(open_only=True))


@agent.get("/agent/live")
@agent_page
def live_fragment() -> str:
    """The live-calls section alone: the desk's script fetches it every few seconds."""
    return render_template("_live.html", live=records().live())


@agent.get("/agent.json")
@agent_json
def index_json() -> Response:
    """The /agent page as JSON (caller numbers masked, as on the page)."""
    store = records()
    return jsonify(
        live=[call_row(c) for c in store.live()],
        recent=[call_row(c) for c in store.recent(limit=RECENT_LIMIT)],
        callbacks=[callback_row(cb, masked=True) for cb in store.callbacks(open_only=True)],
    )


@agent.get("/agent/calls/<call_sid>")
@agent_page
def call_page(call_sid: str) -> tuple[str, int] | str:
    """One call in full: caller, summary, slots, transfer reason, transcript."""
    call = records().get(call_sid)
    if call is None:
        return render_template("message.html", title="Call not found",
                               message=f"No call {call_sid} in the records (it may have expired)."), 404
    return render_template("call.html", call=call, callbacks=_callbacks_of(call_sid),
                           has_message=_message_path(call_sid) is not None)


@agent.get("/agent/calls/<call_sid>/message.wav")
@agent_page
def message_audio(call_sid: str) -> Response | tuple[str, int]:
    """The caller's voicemail, kept when IVR_KEEP_RECORDINGS is on (behind the agent login)."""
    found = _message_path(call_sid)
    if found is None:
        return "no message kept for this call", 404
    response = send_file(found, mimetype="audio/wav", conditional=True)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _message_path(call_sid: str) -> Path | None:
    store = current_app.extensions["ivr"].messages
    return store.path(call_sid) if store is not None else None


@agent.get("/agent/calls/<call_sid>.json")
@agent_json
def call_json(call_sid: str) -> tuple[Response, int] | Response:
    """The call page as JSON, with the full caller number (as on the page)."""
    call = records().get(call_sid)
    if call is None:
        return jsonify(error=f"no call {call_sid}"), 404
    return jsonify(call_detail(call, _callbacks_of(call_sid)))


@agent.post("/agent/callbacks/<int:callback_id>/done")
@agent_page
def callback_done(callback_id: int) -> Response:
    """Mark a callback request done (form post carrying the session's CSRF token)."""
    check_csrf()
    records().close_callback(callback_id)
    return redirect(url_for("agent.index") + "#callbacks")


def _callbacks_of(call_sid: str) -> list[CallbackRequest]:
    return [cb for cb in records().callbacks(open_only=False) if cb.call_sid == call_sid]


def _jsonable(value: Any) -> Any:
    """Dataclass fields as JSON values: datetimes as ISO 8601, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def call_row(call: CallRecord) -> dict[str, Any]:
    """One line of the call lists: no transcript, caller number masked."""
    return {
        "call_sid": call.call_sid, "started_at": _jsonable(call.started_at),
        "ended_at": _jsonable(call.ended_at), "duration_s": call.duration_s,
        "caller": mask_phone(call.caller), "caller_name": call.caller_name, "lang": call.lang,
        "outcome": call.outcome or "live", "transfer_reason": call.transfer_reason,
        "task": call.task, "order_number": call.order_number, "turns": len(call.turns),
        "url": url_for("agent.call_page", call_sid=call.call_sid),
    }


def callback_row(callback: CallbackRequest, masked: bool) -> dict[str, Any]:
    """A callback request; the number is masked outside the call's own page."""
    row = _jsonable(dataclasses.asdict(callback))
    if masked:
        row.update(phone=mask_phone(callback.phone), note=mask_phones_in(callback.note),
                   transcript=mask_phones_in(callback.transcript))
    row["call_url"] = url_for("agent.call_page", call_sid=callback.call_sid)
    return row


def call_detail(call: CallRecord, callbacks: list[CallbackRequest]) -> dict[str, Any]:
    """Everything on the call page: the record with its turns, duration and callback requests."""
    detail = _jsonable(dataclasses.asdict(call))
    detail["outcome"] = call.outcome or "live"
    detail["duration_s"] = call.duration_s
    detail["callbacks"] = [callback_row(cb, masked=False) for cb in callbacks]
    return detail
