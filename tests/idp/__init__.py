"""A real OpenID Connect provider (npm's oidc-provider) for tests that sign in to signoff."""

from tests.idp.provider import OpenIdProvider, SignInError, SignInRefused, client_metadata, sign_in

__all__ = ["OpenIdProvider", "SignInError", "SignInRefused", "client_metadata", "sign_in"]
