"""The desk's Jinja2 environment (autoescaped), its language switch and the security
headers of every desk response."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.ingest.web.progress import STATUS_LABELS, agency_note, progress_of
from services.publisher.model import beijing_time
from shared.models import iso

HERE = Path(__file__).parent
LANG_COOKIE = "nb_lang"
LANGUAGES = ("zh", "en")

ENVIRONMENT = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters["beijing_time"] = beijing_time
ENVIRONMENT.filters["iso"] = iso
ENVIRONMENT.globals.update(
    progress_of=progress_of,
    agency_note=agency_note,
    STATUS_LABELS=STATUS_LABELS,
    SEVERITY_LABELS={
        "error": ("不一致", "error"),
        "warning": ("请注意", "warning"),
        "notice": ("提示", "notice"),
        "info": ("说明", "note"),
    },
)

# No inline script or style, nothing from another origin; forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# (nosniff and no-store come with every answer of the app: services/ingest/app.py)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    # Kept in the browser only, always revalidated; not no-store, which would keep pages out
    # of the back/forward cache and lose a submit page's live upload table on "back".
    "Cache-Control": "private, no-cache",  # sign-in link codes never leave in a Referer
    "X-Frame-Options": "DENY",
}


def language_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in LANGUAGES else "zh"


def chooser(lang: str) -> Callable[[str, str], str]:
    """L(zh, en): the text in the page's language (Chinese first)."""
    return (lambda zh, en: en) if lang == "en" else (lambda zh, en: zh)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language_of(request)
    html = ENVIRONMENT.get_template(template).render(
        request_path=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        lang=lang,
        L=chooser(lang),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
