"""OIDC bearer tokens: a JWT signed by a key from the identity provider's JWKS."""

from __future__ import annotations

import jwt

from counterpromo_api.problems import ApiProblem, unauthorized

_LEEWAY_SECONDS = 30


class OidcVerifier:
    """Checks signature (key from the JWKS, allowed algorithms only), issuer, audience, expiry."""

    def __init__(self, jwks_url: str, *, issuer: str, audience: str, algorithms: list[str]) -> None:
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)

    def subject(self, token: str) -> str:
        """The token's ``sub``; a 401 problem for any token that does not verify."""
        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise ApiProblem(
                503,
                "identity-provider-unavailable",
                "the identity provider's keys cannot be fetched; try again shortly",
                headers={"Retry-After": "5"},
            ) from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise unauthorized("the token is not signed by a known key") from exc
        try:
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("the token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise unauthorized(f"the token is not valid: {exc}") from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise unauthorized("the token names no subject")
        return subject
