"""The ops dashboard page: static HTML + inline script, rendered with a CSP nonce.

The page carries no data and needs no token to load; its script asks for the token
once, keeps it in sessionStorage (gone with the tab) and calls the ops API with it.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape

REFRESH_SECONDS = 3
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@lru_cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("services.ops", "templates"), autoescape=select_autoescape(["html"])
    )


def render_dashboard(nonce: str) -> str:
    return _environment().get_template("dashboard.html").render(nonce=nonce, refresh_seconds=REFRESH_SECONDS)
