"""Package data kept outside app/: the grammars and prompts an operator edits in place.

They live at the top of the repository (grammars/<lang>/, prompts/<lang>.yaml) so an operator
finds them; a built wheel carries a copy in app/data/, where app.config.language_files() looks
first. An editable install reads them in the checkout, so nothing is copied for it.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LANGUAGE_FILES = ("grammars", "prompts")


class BuildWithLanguageFiles(build_py):
    """build_py, plus a copy of the language files into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in LANGUAGE_FILES:
            target = Path(self.build_lib) / "app" / "data" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(name, target, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildWithLanguageFiles})
