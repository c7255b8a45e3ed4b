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
