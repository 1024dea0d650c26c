"""Signing in and out: OpenID Connect, authorization code with PKCE, through Authlib.

``/login`` sends the browser to the provider; ``/auth/callback`` takes the
provider's answer, checks the person (a verified email from an allowed
domain, with a role) and starts their session; ``POST /logout`` ends it.
The provider is any that publishes a discovery document: Google, Microsoft
Entra ID, Okta, Keycloak and the like (docs/security.md says how to set up
each).
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from httpx2 import HTTPError
from joserfc.errors import JoseError

from api.deps import Services, ServicesDep
from api.rendering import TEMPLATES
from config.settings import AuthSettings
from domain.errors import Forbidden, NotFound, Unauthenticated, Unavailable

router = APIRouter(tags=["sign-in"], include_in_schema=False, default_response_class=HTMLResponse)


def openid_client(settings: AuthSettings) -> Any | None:
    """The provider `settings` name, as an Authlib client; None when no provider is set up."""
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return None
    oauth = OAuth()
    return oauth.register(
        "provider",
        server_metadata_url=f"{settings.oidc_issuer.rstrip('/')}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )


def _provider(svc: Services) -> Any:
    if svc.sign_in is None:
        raise NotFound("sign-in is not set up here: use a token (signoff token create), see docs/security.md")
    return svc.sign_in


def _verified(claims: dict[str, Any]) -> bool:
    """Whether the provider says it checked the email: ``email_verified``, or Entra ID's ``xms_edov`` (Entra sends
    no ``email_verified``, and an Entra email is whatever the tenant typed in unless that optional claim says so)."""
    return any(claims.get(name) in (True, "true", 1) for name in ("email_verified", "xms_edov"))


def _what(err: Exception) -> str:
    return str(getattr(err, "error", "") or type(err).__name__)


def _local(path: str | None) -> str:
    """`path` if it is a page of this site, else the process list (no open redirect)."""
    return path if path and path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


@router.get("/login")
async def login(request: Request, svc: ServicesDep, next: str | None = None) -> Response:
    """Send the browser to the identity provider; back at `next` once signed in."""
    provider = _provider(svc)
    request.session["next"] = _local(next)
    try:
        redirect: Response = await provider.authorize_redirect(request, f"{svc.public_url.rstrip('/')}/auth/callback")
    except HTTPError as err:  # the provider's discovery document did not come
        raise Unavailable(f"the identity provider did not answer ({type(err).__name__}): try again shortly") from None
    return redirect


@router.get("/auth/callback")
async def callback(request: Request, svc: ServicesDep) -> Response:
    """The provider's answer: the person it vouches for is signed in, if signoff lets them in."""
    provider = _provider(svc)
    try:
        token = await provider.authorize_access_token(request)
    except (OAuthError, JoseError, HTTPError) as err:  # a bad state, token, signature or claim; the provider down
        raise Unauthenticated(f"sign-in did not complete ({_what(err)}): try again from /login") from None
    claims: dict[str, Any] = dict(token.get("userinfo") or {})
    if "email" not in claims:
        claims |= dict(await provider.userinfo(token=token))
    email = str(claims.get("email") or "")
    if not email or not _verified(claims):
        raise Forbidden("the identity provider did not vouch for an email address: signoff needs a verified one")
    if not svc.auth.domain_allowed(email):
        raise Forbidden(f"{email} is not from a domain allowed to sign in here; ask an administrator")
    if svc.auth.person(email) is None:
        raise Forbidden(f"{email} has no role here; ask an administrator (signoff user add {email})")
    following = _local(request.session.get("next"))
    svc.auth.start_session(request, email)
    return RedirectResponse(following, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (a cross-site POST carries no SameSite=Lax cookie, so it cannot end one)."""
    request.session.clear()
    return TEMPLATES.TemplateResponse(request, "signed_out.html", {}, status_code=200)
