"""`ivr models list | download | path` against a local model server."""
from __future__ import annotations

import hashlib

from click.testing import CliRunner

from app.cli import main
from tests.speech.test_models import NAME, Server, model_zip


def test_models_cli_end_to_end(tmp_path):
    server = Server()
    try:
        data = model_zip()
        server.files[f"{NAME}.zip"] = data
        runner = CliRunner()
        cache = ["--cache-dir", str(tmp_path)]

        listed = runner.invoke(main, ["models", "list", *cache])
        assert listed.exit_code == 0 and "en-us" in listed.output and "not installed" in listed.output

        missing = runner.invoke(main, ["models", "path", "en-us", *cache])
        assert missing.exit_code == 1 and "ivr models download en-us" in missing.output

        bad = runner.invoke(main, ["models", "download", "en-us", *cache, "--base-url", server.url,
                                   "--sha256", "f" * 64])
        assert bad.exit_code == 1 and "checksum mismatch" in bad.output
        assert list(tmp_path.iterdir()) == []

        good = runner.invoke(main, ["models", "download", "en-us", *cache, "--base-url", server.url,
                                    "--sha256", hashlib.sha256(data).hexdigest()])
        assert good.exit_code == 0, good.output
        assert "(verified)" in good.output and f"Installed {NAME}" in good.output
        assert "Downloading" in good.output  # the progress bar

        path = runner.invoke(main, ["models", "path", "en", *cache])
        assert path.exit_code == 0 and path.output.strip() == str(tmp_path / NAME)
        assert "installed at" in runner.invoke(main, ["models", "list", *cache]).output
        again = runner.invoke(main, ["models", "download", "en-us", *cache, "--base-url", server.url])
        assert again.exit_code == 0 and "already installed" in again.output
    finally:
        server.httpd.shutdown()


def test_xdg_cache_home_is_honoured_through_the_option(tmp_path):
    result = CliRunner().invoke(main, ["models", "path", "fr"], env={"XDG_CACHE_HOME": str(tmp_path)})
    assert result.exit_code == 1
    (tmp_path / "ivr" / "models" / "vosk-model-small-fr-0.22" / "am").mkdir(parents=True)
    (tmp_path / "ivr" / "models" / "vosk-model-small-fr-0.22" / "am" / "final.mdl").write_bytes(b"x")
    result = CliRunner().invoke(main, ["models", "path", "fr"], env={"XDG_CACHE_HOME": str(tmp_path)})
    assert result.exit_code == 0 and "vosk-model-small-fr-0.22" in result.output
