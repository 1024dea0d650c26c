"""What `signoff login` keeps: a token per signoff URL, in the user's config directory, readable by them alone.

The file is ``credentials.json`` under ``platformdirs.user_config_path("signoff")``
(``~/.config/signoff`` on Linux), mode 0600, written whole and renamed into
place so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from platformdirs import user_config_path


def path() -> Path:
    """Where the tokens are kept (``SIGNOFF_CONFIG_DIR`` moves it, for tests and odd setups)."""
    folder = os.environ.get("SIGNOFF_CONFIG_DIR")
    return (Path(folder) if folder else user_config_path("signoff")) / "credentials.json"


def _key(url: str) -> str:
    return url.rstrip("/")


def _saved() -> dict[str, str]:
    try:
        loaded = json.loads(path().read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def token_for(url: str) -> str | None:
    """The token `signoff login` stored for `url`, if any."""
    return _saved().get(_key(url))


def save(url: str, token: str | None) -> Path:
    """Keep `token` for `url` (None forgets it); returns the file."""
    saved = _saved()
    if token is None:
        saved.pop(_key(url), None)
    else:
        saved[_key(url)] = token
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_suffix(".tmp")
    partial.unlink(missing_ok=True)  # a leftover could have looser permissions, which O_CREAT would keep
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(saved, file, indent=2)
    os.replace(partial, target)
    return target
