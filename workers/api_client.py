"""The CLI's way to the web service: HTTP, with errors turned into exit codes.

Exit codes (DESIGN.md): 0 done, 1 failed, 2 bad input (with a sentence).
"""

from __future__ import annotations

from typing import Any

import requests


class CliError(Exception):
    """A failure the CLI reports as one sentence and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def describe(detail: Any) -> str:
    """A readable sentence from an API error's ``detail``."""
    if isinstance(detail, list):
        return "\n".join(
            f"{'.'.join(str(p) for p in item.get('loc', []) if p != 'body')}: {item.get('msg')}"
            if isinstance(item, dict)
            else str(item)
            for item in detail
        )
    return str(detail)


class ApiClient:
    """Calls the signoff web service at `base_url`."""

    def __init__(self, base_url: str, timeout: float = 60, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["X-Signoff-Channel"] = "cli"  # the trail's channel; who it is, the token proves
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """One request; returns the decoded JSON (or text for CSV).

        Raises:
            CliError: code 2 for a 4xx (with the API's sentence), 1 otherwise.
        """
        url = f"{self.base_url}{path}"
        try:
            response = self.session.request(method, url, json=json, params=params, timeout=self.timeout)
        except requests.ConnectionError:
            raise CliError(
                f"cannot reach signoff at {self.base_url}: is `signoff dev` (or `signoff web`) running? "
                "Point --url or SIGNOFF_PUBLIC_URL at it.",
                1,
            ) from None
        except requests.Timeout:
            raise CliError(f"signoff at {self.base_url} did not answer within {self.timeout:.0f}s", 1) from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            message = describe(detail)
            if response.status_code == 401:
                message += "\nset SIGNOFF_TOKEN, or keep a token with `signoff login` (signoff token create makes one)"
            raise CliError(message, 2 if response.status_code < 500 else 1)
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text
