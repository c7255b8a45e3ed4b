"""app/gunicorn_conf.py: the settings the Procfile's server runs with."""
from __future__ import annotations

import gc
import importlib
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.http import message


@pytest.fixture
def conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
    return importlib.import_module("app.gunicorn_conf")


def test_requests_are_parsed_by_gunicorns_c_parser(conf: object) -> None:
    config = Config()
    config.set("http_parser", getattr(conf, "http_parser", "auto"))
    assert message._check_fast_parser(config)        # gunicorn[fast] is installed and taken


def test_worker_heartbeats_go_to_memory(conf: object) -> None:
    assert conf.worker_tmp_dir == "/dev/shm"            # type: ignore[attr-defined]


def test_the_preloaded_app_is_frozen_out_of_garbage_collection(conf: object) -> None:
    try:
        conf.when_ready(None)                           # type: ignore[attr-defined]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_one_worker_per_core_plus_one_unless_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "prometheus"))
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert importlib.reload(importlib.import_module("app.gunicorn_conf")).workers == 3
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert importlib.reload(importlib.import_module("app.gunicorn_conf")).workers == 5


def test_a_new_worker_makes_its_voice_activity_detectors_before_calls_come(
        conf: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import threading
    from types import SimpleNamespace

    from app.speech.vad import DetectorPool, SileroDetector
    pool = DetectorPool()
    wsgi = SimpleNamespace(app=SimpleNamespace(extensions={"ivr": SimpleNamespace(voice=SimpleNamespace(detectors=pool))}))
    monkeypatch.setitem(sys.modules, "app.wsgi", wsgi)
    conf.post_fork(None, None)                          # type: ignore[attr-defined]
    for thread in [t for t in threading.enumerate() if t.name == "vad-preload"]:
        thread.join(timeout=30)
    detectors = [pool.acquire() for _ in range(conf.DETECTORS_PER_WORKER)]   # type: ignore[attr-defined]
    assert len({id(d) for d in detectors}) == conf.DETECTORS_PER_WORKER       # type: ignore[attr-defined]
    assert all(isinstance(d, SileroDetector) for d in detectors) and not pool._free


def test_a_keypad_server_has_no_detectors_to_make(conf: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    from types import SimpleNamespace
    import threading
    monkeypatch.setitem(sys.modules, "app.wsgi", SimpleNamespace(app=SimpleNamespace(extensions={"ivr": SimpleNamespace(voice=None)})))
    conf.post_fork(None, None)                          # type: ignore[attr-defined]
    assert not any(t.name == "vad-preload" for t in threading.enumerate())
