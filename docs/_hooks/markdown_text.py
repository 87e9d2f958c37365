"""Small helpers shared by the reference generators."""

from __future__ import annotations

import html
import re


def cell(text: str) -> str:
    """Text for a Markdown table cell: no line breaks, pipes and HTML escaped outside code."""
    parts = text.replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):  # outside code spans
        parts[i] = html.escape(parts[i], quote=False)
    return "`".join(parts).replace("|", "\\|")


def rst(text: str) -> str:
    """Docstring markup to Markdown: ``code`` and :role:`name` become `code`."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")
