"""The IVR bot server. `create_app(settings)` (in app.factory) builds and wires every object.

Importing `app` stays light so the pure packages (app.dialog, app.nlu) load without Flask.
"""
from __future__ import annotations

from typing import Any

__all__ = ["create_app", "build_services"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app import factory
        return getattr(factory, name)
    raise AttributeError(f"module 'app' has no attribute {name!r}")
