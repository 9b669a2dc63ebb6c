"""The pages in static/ keep to the rules the CSP enforces: no inline script, no inline event handlers,
no style attributes, and no HTML built from strings (user data goes in as text)."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "static"
HTML = sorted(STATIC.rglob("*.html"))
JS = sorted(STATIC.rglob("*.js"))


def test_pages_exist() -> None:
    """The room, monitor and management pages are there, each loading one module script."""
    names = {p.parent.name for p in HTML}
    assert {"room", "monitor", "manage"} <= names
    for page in HTML:
        scripts = re.findall(r"<script\b[^>]*>", page.read_text())
        assert scripts and all('type="module"' in s and 'src="/static/' in s for s in scripts), page


def test_no_inline_script_handlers_or_styles() -> None:
    """Every <script> has a src and no body; no on* attributes, no style attributes, no javascript: URLs."""
    for page in HTML:
        text = page.read_text()
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", text), f"inline script in {page}"
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), f"inline handler in {page}"
        assert not re.search(r"\sstyle\s*=", text, re.I), f"style attribute in {page}"
        assert "javascript:" not in text.lower(), page


def test_scripts_never_build_html_from_strings() -> None:
    """No innerHTML / outerHTML / insertAdjacentHTML / document.write / eval in the page scripts."""
    forbidden = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(")
    for script in JS:
        assert not forbidden.search(script.read_text()), script


def test_tokens_stay_out_of_urls_and_logs() -> None:
    """The token lives in sessionStorage; no script puts it in a URL or logs to the console."""
    for script in JS:
        text = script.read_text()
        assert "localStorage" not in text, script
        assert not re.search(r"console\.(log|info|debug|warn|error)", text), script
        assert not re.search(r"[?&]token=", text), script
