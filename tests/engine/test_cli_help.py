"""``--help`` shows every option's default, the families' options too, with one mechanism."""

import argparse

import pytest

from genai_engine.cli import build_parser
from genai_engine.commands.output import HelpFormatter


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def help_lines(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's help as ``--help`` prints it (defaults filled in), by its first flag."""
    formatter = parser._get_formatter()
    return {action.option_strings[0]: formatter._expand_help(action) if action.help else ""
            for action in parser._actions if action.option_strings}


def is_flag(action: argparse.Action) -> bool:
    return action.nargs == 0  # store_true, help, version: nothing to default


@pytest.mark.parametrize("command", ["train", "memorisation", "anomalies"])
def test_every_option_shows_its_default_or_is_a_flag(command):
    """``train``: the generic options and every family's, whose defaults differ per family."""
    parser = subcommands()[command]
    texts = help_lines(parser)
    for action in parser._actions:
        if not action.option_strings or is_flag(action) or action.required:
            continue
        flag = action.option_strings[0]
        assert texts[flag], f"{command} {flag} has no help"
        assert "default" in texts[flag], f"{command} {flag}: {texts[flag]!r} shows no default"
        assert texts[flag].count("default") == 1, f"{command} {flag} says its default twice"


def test_train_help_covers_every_family_and_fills_defaults_in():
    from genai_engine.families import family_names

    text = " ".join(subcommands()["train"].format_help().split())
    for name in family_names():
        assert f"(--family {name})" in text
    assert "--gan-loss {ns,hinge,wgan-gp} ns (non-saturating), hinge or wgan-gp (default: ns)" in text
    assert "--timesteps TIMESTEPS noise steps T (default: 1000)" in text
    assert "%(default)" not in text


def test_the_formatter_adds_a_default_only_where_it_says_something():
    parser = argparse.ArgumentParser(formatter_class=HelpFormatter)
    parser.add_argument("--size", type=int, default=3, help="a size")
    parser.add_argument("--own", default=2, help="its own words (default: two)")
    parser.add_argument("--none", default=None, help="nothing to show")
    parser.add_argument("--flag", action="store_true", help="a switch")
    text = " ".join(parser.format_help().split())
    assert "a size (default: 3)" in text
    assert "its own words (default: two)" in text and "(default: 2)" not in text
    assert "nothing to show" in text and "(default: None)" not in text
    assert "(default: False)" not in text
