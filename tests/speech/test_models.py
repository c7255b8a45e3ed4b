"""Model downloads against a local HTTP server: checksum, progress, atomic unpack, listing."""
from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from app.speech import models
from app.speech.models import ModelError, download, installed_path, list_models

NAME = "vosk-model-small-en-us-0.15"


def model_zip(name: str = NAME, with_model: bool = True, extra: dict[str, bytes] | None = None) -> bytes:
    """A small zip shaped like an official model (top folder, am/, conf/, graph/)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        if with_model:
            archive.writestr(f"{name}/am/final.mdl", b"\x00" * 4096)
            archive.writestr(f"{name}/conf/model.conf", "--min-active=200\n")
            archive.writestr(f"{name}/graph/Gr.fst", b"\x01" * 2048)
        archive.writestr(f"{name}/README", "test model\n")
        for path, data in (extra or {}).items():
            archive.writestr(path, data)
    return buf.getvalue()


class Server:
    """Serves whatever `files` holds, on 127.0.0.1, with Content-Length."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = files.get(self.path.rsplit("/", 1)[-1])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/models"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.httpd.shutdown()


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_download_verifies_unpacks_and_reports_progress(server, tmp_path):
    data = model_zip()
    server.files[f"{NAME}.zip"] = data
    seen: list[tuple[int, int | None]] = []
    path, digest = download("en", tmp_path, server.url, hashlib.sha256(data).hexdigest(),
                            progress=lambda n, total: seen.append((n, total)))
    assert path == tmp_path / NAME and (path / "am" / "final.mdl").is_file()
    assert digest == hashlib.sha256(data).hexdigest()
    assert sum(n for n, _ in seen) == len(data) and seen[0][1] == len(data)
    assert leftovers(tmp_path) == [NAME]  # no .part file, no staging directory
    assert installed_path("en-us", tmp_path) == path == installed_path("en", tmp_path)
    assert download("en-us", tmp_path, server.url)[0] == path  # already there: nothing fetched


def test_checksum_mismatch_fails_cleanly(server, tmp_path):
    server.files[f"{NAME}.zip"] = model_zip()
    with pytest.raises(ModelError, match="checksum mismatch"):
        download("en-us", tmp_path, server.url, "0" * 64)
    assert leftovers(tmp_path) == []
    assert installed_path("en-us", tmp_path) is None


def test_the_pinned_checksum_is_used_by_default(server, tmp_path):
    server.files[f"{NAME}.zip"] = model_zip()  # not the official bytes
    with pytest.raises(ModelError, match=models.KNOWN_MODELS["en-us"].sha256):
        download("en-us", tmp_path, server.url)
    assert leftovers(tmp_path) == []


def test_unpinned_models_download_with_a_warning(server, tmp_path, caplog, monkeypatch):
    # Every catalogued model is pinned now; an operator's own entry may not be.
    unpinned = models.ModelInfo("xx", "vosk-model-small-xx-0.1", None, 1)
    monkeypatch.setitem(models.KNOWN_MODELS, "xx", unpinned)
    server.files[f"{unpinned.name}.zip"] = model_zip(unpinned.name)
    path, digest = download("xx", tmp_path, server.url)
    assert path.name == unpinned.name and digest in caplog.text


def test_the_french_model_is_checksum_verified(server, tmp_path):
    name = models.KNOWN_MODELS["fr"].name
    server.files[f"{name}.zip"] = model_zip(name)    # not the official bytes
    with pytest.raises(ModelError, match=models.KNOWN_MODELS["fr"].sha256):
        download("fr", tmp_path, server.url)
    assert leftovers(tmp_path) == []


def test_bad_archives_leave_nothing(server, tmp_path):
    name = models.KNOWN_MODELS["fr"].name
    for body, error in [(b"not a zip", "not a valid zip"),
                        (model_zip(name, with_model=False), "does not contain a Vosk model"),
                        (model_zip(name, extra={"../../evil.txt": b"x"}), "unsafe path")]:
        server.files[f"{name}.zip"] = body
        with pytest.raises(ModelError, match=error):
            download("fr", tmp_path, server.url, hashlib.sha256(body).hexdigest())
        assert leftovers(tmp_path) == []
    assert not (tmp_path.parent / "evil.txt").exists()


def test_unreachable_and_unknown(tmp_path, server):
    server.files.pop(f"{models.KNOWN_MODELS['fr'].name}.zip", None)
    with pytest.raises(ModelError, match="download of .* failed: HTTP Error 404"):
        download("fr", tmp_path, server.url, "0" * 64)
    assert leftovers(tmp_path) == []
    with pytest.raises(ModelError, match="no known Vosk model for 'xx'"):
        download("xx", tmp_path, server.url)


def test_listing_and_cache_location(tmp_path):
    assert [(info.lang, path) for info, path in list_models(tmp_path)] == [("en-us", None), ("fr", None)]
    assert models.default_cache_dir(home=Path("/home/a")) == Path("/home/a/.cache/ivr/models")
    assert models.default_cache_dir(xdg_cache_home="/xdg") == Path("/xdg/ivr/models")
