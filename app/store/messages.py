"""Voicemail audio kept for the agents (IVR_KEEP_RECORDINGS): one WAV per call under the data dir.

Only with IVR_KEEP_RECORDINGS: otherwise a message is kept as its transcript alone. The files
live on the host that took the call (IVR_DATA_DIR/messages); `ivr purge` and `ivr forget`
remove them with the call's records.
"""
from __future__ import annotations

import re
import time
import wave
from pathlib import Path

_SID = re.compile(r"^CA[0-9a-zA-Z]{1,62}$")


class MessageStore:
    """Voicemail WAVs keyed by CallSid."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, call_sid: str) -> Path | None:
        """Where a call's message is, if it is kept (a malformed CallSid has none)."""
        if not _SID.match(call_sid):
            return None
        found = self.directory / f"{call_sid}.wav"
        return found if found.is_file() else None

    def save_pcm(self, call_sid: str, pcm16: bytes, rate: int) -> None:
        """Keep a message heard on the stream (16-bit mono PCM)."""
        if not _SID.match(call_sid) or not pcm16:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with wave.open(str(self.directory / f"{call_sid}.wav"), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(pcm16)

    def save_wav(self, call_sid: str, wav_bytes: bytes) -> None:
        """Keep a message recorded by Twilio (the record transport), as fetched."""
        if _SID.match(call_sid) and wav_bytes:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / f"{call_sid}.wav").write_bytes(wav_bytes)

    def delete(self, call_sid: str) -> None:
        """Forget a call's message (purge, forget)."""
        found = self.path(call_sid)
        if found is not None:
            found.unlink(missing_ok=True)

    def purge_older_than(self, days: int) -> int:
        """Delete messages kept longer than `days` (by file time); return how many."""
        cutoff = time.time() - days * 86400
        old = [f for f in self.directory.glob("CA*.wav") if f.stat().st_mtime < cutoff] \
            if self.directory.is_dir() else []
        for found in old:
            found.unlink(missing_ok=True)
        return len(old)
