"""The package run from anywhere: a built wheel carries its grammars and prompts."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from app.config import Settings
from app.loading import LanguageFilesError, load_language

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip` builds from this checkout, unpacked as an installer would."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    target = out / "site"
    with zipfile.ZipFile(next(out.glob("ivr_bot-*.whl"))) as wheel:
        wheel.extractall(target)
    return target


def run_ivr(site: Path, cwd: Path, args: list[str], stdin: str = "",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # -S: no .pth files, so the checkout's editable install cannot lend its own files.
    path = os.pathsep.join([str(site), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    code = "import sys; from app.cli import main; sys.argv[0] = 'ivr'; main()"
    return subprocess.run([sys.executable, "-S", "-c", code, *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, timeout=120,
                          env={"PATH": os.environ["PATH"], "PYTHONPATH": path, **(env or {})})


def test_the_installed_package_classifies_from_any_directory(installed: Path, tmp_path: Path) -> None:
    done = run_ivr(installed, tmp_path, ["classify"], "where is my order\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["intent"] == "order_status"
    located = run_ivr(installed, tmp_path, ["--help"])
    assert located.returncode == 0
    assert (installed / "app" / "data" / "grammars" / "en" / "orders.yaml").is_file()
    assert (installed / "app" / "data" / "prompts" / "en.yaml").is_file()


def test_the_installed_package_runs_a_scripted_call_elsewhere(installed: Path, tmp_path: Path) -> None:
    script = ROOT / "tests" / "calls" / "order_status_then_person.yaml"
    done = run_ivr(installed, tmp_path, ["sim", "--script", str(script)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("PASSED")


def test_missing_grammars_say_where_they_were_looked_for(tmp_path: Path) -> None:
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN": "t", "IVR_GRAMMARS_DIR": str(tmp_path)})
    with pytest.raises(LanguageFilesError) as info:
        load_language(settings)
    assert str(info.value) == (f"{tmp_path.resolve() / 'en'}: no grammars for language 'en' "
                               "(IVR_GRAMMARS_DIR names a directory holding <lang>/*.yaml)")
