"""`ivr models list | download LANG | path LANG`: the Vosk models in the user's cache."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli import main

_CACHE_HELP = "Model cache directory (default: $XDG_CACHE_HOME/ivr/models or ~/.cache/ivr/models)."


def _cache_dir(cache_dir: Path | None, xdg_cache_home: str | None) -> Path:
    from app.speech.models import default_cache_dir
    return cache_dir if cache_dir is not None else default_cache_dir(xdg_cache_home=xdg_cache_home)


def _cache_options(command):
    command = click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
                           help=_CACHE_HELP)(command)
    # Only click reads the variable; the library code gets the value as an argument.
    return click.option("--xdg-cache-home", envvar="XDG_CACHE_HOME", default=None, hidden=True)(command)


@main.group("models")
def models() -> None:
    """Vosk speech models: list, download (checksum verified) and locate them."""


@models.command("list")
@_cache_options
def list_command(cache_dir: Path | None, xdg_cache_home: str | None) -> None:
    """Show the known models and which are installed."""
    from app.speech.models import list_models
    cache = _cache_dir(cache_dir, xdg_cache_home)
    for info, path in list_models(cache):
        state = f"installed at {path}" if path else "not installed"
        click.echo(f"{info.lang:6} {info.name:32} ~{info.size_mb} MB  {state}")


@models.command("download")
@click.argument("lang")
@_cache_options
@click.option("--base-url", default=None, help="Model server (default: the official alphacephei URL).")
@click.option("--sha256", default=None, help="Expected SHA-256 of the zip (overrides the built-in table).")
def download_command(lang: str, cache_dir: Path | None, xdg_cache_home: str | None,
                     base_url: str | None, sha256: str | None) -> None:
    """Download the official small Vosk model for LANG (en-us, fr) into the cache."""
    from app.speech.models import BASE_URL, ModelError, download, installed_path, model_info
    cache = _cache_dir(cache_dir, xdg_cache_home)
    try:
        info = model_info(lang)
        existing = installed_path(lang, cache)
        if existing:
            click.echo(f"{info.name} is already installed at {existing}")
            return
        with click.progressbar(length=info.size_mb * 1024 * 1024, label=f"Downloading {info.name}",
                               file=sys.stderr) as bar:
            path, digest = download(lang, cache, base_url or BASE_URL, sha256,
                                    progress=lambda n, total: _advance(bar, n, total))
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    verified = "verified" if (sha256 or info.sha256) else "NOT verified: no pinned checksum; pass --sha256"
    click.echo(f"SHA-256 {digest} ({verified})")
    click.echo(f"Installed {info.name} at {path}")
    click.echo(f"Use it with VOSK_MODEL_PATH={path} (or just IVR_LANG={lang.split('-')[0]}: the cache is searched)")


def _advance(bar, n: int, total: int | None) -> None:
    # The server's Content-Length beats our size estimate once known.
    if total and bar.length != total:
        bar.length = total
    bar.update(n)


@models.command("path")
@click.argument("lang")
@_cache_options
def path_command(lang: str, cache_dir: Path | None, xdg_cache_home: str | None) -> None:
    """Print the installed model's path for LANG; exit 1 when it is not installed."""
    from app.speech.models import installed_path
    path = installed_path(lang, _cache_dir(cache_dir, xdg_cache_home))
    if path is None:
        click.echo(f"no Vosk model for {lang} installed (run `ivr models download {lang}`)", err=True)
        raise SystemExit(1)
    click.echo(str(path))
