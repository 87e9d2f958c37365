"""The Python API reference, generated from the package's public names and docstrings."""

from __future__ import annotations

import inspect
import re

from markdown_text import cell, rst

_SECTIONS = ("Parameters", "Returns", "Yields", "Raises", "Warns", "Attributes", "Examples",
             "Notes", "See Also", "References")
_LISTED = ("Parameters", "Returns", "Yields", "Raises", "Warns", "Attributes")


def public_names() -> list[str]:
    """Return the names ``simulator`` exports (``simulator.__all__``)."""
    import simulator

    return list(simulator.__all__)


def _signature(name: str, obj: object) -> str:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return name
    params = []
    for p in sig.parameters.values():
        text = p.name
        if p.kind is p.VAR_POSITIONAL:
            text = "*" + text
        elif p.kind is p.VAR_KEYWORD:
            text = "**" + text
        if p.default is not p.empty:
            default = p.default
            text += "=" + ("..." if callable(default) or "factory" in repr(default)
                           else repr(default))
        params.append((p.kind, text))
    out, star = [], False
    for kind, text in params:
        if kind is inspect.Parameter.KEYWORD_ONLY and not star:
            out.append("*")
            star = True
        if kind is inspect.Parameter.VAR_POSITIONAL:
            star = True
        out.append(text)
    return f"{name}({', '.join(out)})"


def _docstring(obj: object) -> list[str]:
    doc = inspect.getdoc(obj) or ""
    lines = doc.splitlines()
    out: list[str] = []
    section = None
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() in _SECTIONS and set(nxt.strip()) == {"-"}:
            section = line.strip()
            out += ["", f"**{section}**", ""]
            i += 2
            continue
        if section in _LISTED and line and not line.startswith(" "):
            head, _, kind = line.partition(" : ")
            entry = f"- `{head.strip()}`" + (f" ({rst(kind.strip())})" if kind else "")
            body = []
            i += 1
            while i < len(lines) and (lines[i].startswith(" ") or not lines[i].strip()):
                if lines[i].strip():
                    body.append(lines[i].strip())
                i += 1
            out.append(entry + (": " + cell(rst(" ".join(body))) if body else ""))
            continue
        if section == "Examples":
            block = []
            while i < len(lines) and not (lines[i].strip() in _SECTIONS
                                          and i + 1 < len(lines)
                                          and set(lines[i + 1].strip()) == {"-"}):
                block.append(re.sub(r"\s+# doctest:.*$", "", lines[i]))
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["```pycon", *block, "```"]
            continue
        out.append(cell(rst(line)) if line.strip() else "")
        i += 1
    return out


def api_reference() -> str:
    """Markdown: each public name of ``simulator`` with its signature and docstring."""
    import simulator

    out = []
    for name in public_names():
        obj = getattr(simulator, name)
        module = getattr(obj, "__module__", "simulator")
        kind = "class" if inspect.isclass(obj) else "function"
        out += [f"### `{name}` {{#api-{name.lower()}}}", "",
                f"*{kind}, from `{module}`; import it as `from simulator import {name}`*", "",
                "```python", _signature(name, obj), "```", ""]
        out += _docstring(obj)
        out.append("")
    return "\n".join(out)
