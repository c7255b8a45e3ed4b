"""Local files and sockets (issue 11, item 7): the database and the dev token are readable by
their owner only, and a second server cannot take the running one's control socket away."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from app.store.database import create_schema, make_engine
from tests.conftest import ROOT
from tests.servers import free_port, spawn_gunicorn, wait_healthy
from tests.e2e.conftest import _env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_is_created_private_and_an_open_one_is_tightened(tmp_path: Path) -> None:
    fresh = tmp_path / "var" / "ivr.db"
    create_schema(make_engine(f"sqlite:///{fresh}"))
    assert mode(fresh) == 0o600 and mode(fresh.parent) == 0o700
    older = tmp_path / "older.db"
    older.touch(mode=0o644)
    os.chmod(older, 0o644)
    create_schema(make_engine(f"sqlite:///{older}"))
    assert mode(older) == 0o600


def test_make_writes_the_dev_token_private_and_tightens_an_old_one(tmp_path: Path) -> None:
    make = ["make", "-s", "-f", str(ROOT / "Makefile"), "-C", str(tmp_path), "var/dev-token", f"PY={sys.executable}"]
    subprocess.run(make, check=True, capture_output=True)
    token = tmp_path / "var" / "dev-token"
    assert mode(token) == 0o600 and len(token.read_text().strip()) == 32
    os.chmod(token, 0o644)
    subprocess.run(make, check=True, capture_output=True)
    assert mode(token) == 0o600


def test_a_second_server_on_a_busy_port_leaves_the_first_one_serving(tmp_path: Path) -> None:
    port = free_port()
    env = {**_env(tmp_path, f"http://127.0.0.1:{port}", free_port()), "IVR_TRANSPORT": "keypad",
           "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    (tmp_path / "run").mkdir()
    subprocess.run([str(Path(sys.executable).parent / "ivr"), "seed"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    first = spawn_gunicorn(port, env, tmp_path / "first.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", first, tmp_path / "first.log")
        second = spawn_gunicorn(port, env, tmp_path / "second.log")
        assert second.wait(timeout=60) != 0                      # the port is taken: it gives up
        assert not list((tmp_path / "run").glob("*.ctl")) and not (tmp_path / ".gunicorn").exists()
        wait_healthy(f"http://127.0.0.1:{port}", first, tmp_path / "first.log", timeout_s=5)
    finally:
        first.terminate()
        first.wait(timeout=30)
