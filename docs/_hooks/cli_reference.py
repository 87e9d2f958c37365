"""The command-line reference, generated from the CLI's argparse parser."""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager

from markdown_text import cell


class _CapturedError(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__("parser captured")
        self.parser = parser


def cli_parser() -> argparse.ArgumentParser:
    """Return the parser ``python run.py`` uses.

    A function of ``simulator.cli`` that builds it is used if there is one;
    otherwise the parser that ``simulator.cli.main`` builds is captured as it
    starts parsing (nothing is run).
    """
    import simulator.cli as cli

    for name in ("build_parser", "make_parser", "parser", "_parser", "_build_parser"):
        build = getattr(cli, name, None)
        if callable(build):
            try:
                parser = build()
            except TypeError:
                continue
            if isinstance(parser, argparse.ArgumentParser):
                return parser
    original_parse_args = argparse.ArgumentParser.parse_args
    original_parse_known = argparse.ArgumentParser.parse_known_args

    def capture(self, *args, **kwargs):
        raise _CapturedError(self)

    argparse.ArgumentParser.parse_args = capture
    argparse.ArgumentParser.parse_known_args = capture
    try:
        cli.main(["--help"])
    except _CapturedError as got:
        return got.parser
    finally:
        argparse.ArgumentParser.parse_args = original_parse_args
        argparse.ArgumentParser.parse_known_args = original_parse_known
    raise RuntimeError("simulator.cli.main built no argparse parser")


@contextmanager
def _columns(width: int):
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    out = []
    for action in parser._actions:  # argparse keeps its actions here; there is no public view
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                out.append((name, helps.get(name, ""), sub))
    return out


def _argument_rows(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | meaning | default |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.option_strings:
            names = ", ".join(action.option_strings)
            if action.nargs != 0:
                metavar = action.metavar or (
                    "{" + ",".join(map(str, action.choices)) + "}" if action.choices
                    else action.dest.upper())
                names += f" {metavar}"
        else:
            names = action.metavar or action.dest
            if action.nargs in ("?", "*"):
                names = f"[{names}]"
            elif action.nargs == "+":
                names = f"{names} [...]"
        meaning = (action.help or "").replace("%(default)s", str(action.default)).replace(
            "%%", "%")
        if action.required and action.option_strings:
            meaning += " (required)"
        if isinstance(action, argparse._AppendAction):
            meaning += " (may be repeated)"
        default = ""
        if action.default not in (None, False, [], argparse.SUPPRESS) and action.nargs != 0:
            default = f"`{action.default}`"
        rows.append(f"| `{names}` | {cell(meaning)} | {default} |")
    return rows


def cli_reference() -> str:
    """Markdown: the commands, each with its usage line and a table of its arguments."""
    parser = cli_parser()
    with _columns(88):
        out = ["```text", parser.format_usage().strip(), "```", "",
               cell(parser.description or ""), "",
               "| command | what it does |", "|---|---|"]
        subs = _subcommands(parser)
        for name, help_text, _sub in subs:
            out.append(f"| [`{name}`](#cli-{name}) | {cell(help_text)} |")
        out.append("")
        for name, help_text, sub in subs:
            sentence = help_text[:1].upper() + help_text[1:] + "."
            out += [f"### `{name}` {{#cli-{name}}}", "", cell(sentence), "",
                    "```text", sub.format_usage().strip(), "```", ""]
            out += _argument_rows(sub)
            out.append("")
            if sub.epilog:  # the command's example (argparse epilog)
                out += ["```text", sub.epilog.strip(), "```", ""]
    return "\n".join(out)
