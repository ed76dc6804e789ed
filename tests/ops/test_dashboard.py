"""The dashboard page: no data in it, scripts only with the response's nonce."""

from __future__ import annotations

import re

from services.ops.dashboard import CONTENT_SECURITY_POLICY, render_dashboard


def test_page_scripts_and_styles_carry_the_nonce() -> None:
    page = render_dashboard("n0nce")
    assert re.findall(r"<script[^>]*>", page) == ['<script nonce="n0nce">']
    assert re.findall(r"<style[^>]*>", page) == ['<style nonce="n0nce">']
    assert "http://" not in page and "https://" not in page  # no CDN
    assert 'style="' not in page  # inline style attributes would be blocked by the CSP


def test_nonce_is_escaped() -> None:
    assert '"><script>' not in render_dashboard('"><script>')


def test_policy_allows_only_the_nonce_and_same_origin() -> None:
    policy = CONTENT_SECURITY_POLICY.format(nonce="abc")
    assert "script-src 'nonce-abc'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
