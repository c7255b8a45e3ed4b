"""`ivr purge` and `ivr forget`: retention and erasure of call records and sessions."""
from __future__ import annotations

import re

import click

from app.cli import main
from app.cli.report import open_records, tool_settings

_PHONE = re.compile(r"^\+?[0-9]{3,15}$")
SECONDS_PER_DAY = 86400


@main.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1),
              help="Delete calls started more than DAYS ago (default: IVR_RETENTION_DAYS, 30).")
def purge(days: int | None) -> None:
    """Delete old call records, their transcripts and callbacks, and old call sessions."""
    from app.store.messages import MessageStore
    from app.store.sessions import open_sessions

    settings = tool_settings()
    days = days or settings.retention_days
    calls = open_records(settings).purge_older_than(days)
    sessions = open_sessions(settings.database_url, settings.redis_url).purge_older_than(days * SECONDS_PER_DAY)
    messages = MessageStore(settings.data_dir / "messages").purge_older_than(days)
    click.echo(f"purged {calls} call record(s), {sessions} session(s) and {messages} voicemail recording(s) "
               f"older than {days} day(s)")


@main.command("forget")
@click.argument("phone")
def forget(phone: str) -> None:
    """Erase every call record, transcript, callback and session of the caller PHONE."""
    from app.logs import mask_phone
    from app.store.messages import MessageStore
    from app.store.sessions import open_sessions

    number = re.sub(r"[\s\-().]", "", phone)
    if not _PHONE.match(number):
        raise click.BadParameter(f"expected a phone number like +15550100, got {phone!r}", param_hint="PHONE")
    settings = tool_settings()
    records = open_records(settings)
    sessions = open_sessions(settings.database_url, settings.redis_url)
    messages = MessageStore(settings.data_dir / "messages")
    for call_sid in records.call_sids(number):
        sessions.delete(call_sid)
        messages.delete(call_sid)
    calls = records.forget(number)
    click.echo(f"erased {calls} call(s) of {mask_phone(number)} with their transcripts, callbacks and sessions")
