"""The security headers on every answer, event streams included: a strict Content-Security-Policy, no sniffing,
no framing, no referrer, nothing cached unless a handler says so, and never a cookie.
"""

from __future__ import annotations

from aiohttp import web

__all__ = ["CSP", "SECURITY_HEADERS", "secure"]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), microphone=(), payment=(), usb=()",
}


async def secure(request: web.Request, response: web.StreamResponse) -> None:
    """The security headers on every answer, streams included; never a cookie (an `on_response_prepare` hook)."""
    response.headers.update(SECURITY_HEADERS)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.popall("Set-Cookie", None)
