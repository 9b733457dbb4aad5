"""Every message a hidden check of the course's homeworks can show a student is written in both languages:
`msg(ko=..., en=...)` (docs/checks.md), never bare text. Read from the check files' syntax, so a message on a
path no sample answer reaches is covered too."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOMEWORK_FILES = sorted((ROOT / "autograder").glob("*/*.py"))
KIT_CHECKS = ROOT / "src" / "assignkit" / "checks.py"  # its MissingArtifact/AssertionError messages reach students
RAISED = re.compile(r"(AssertionError|Malformed|MissingArtifact)$")
MESSAGE_HELPERS = {"expect_at_most": (0, 3), "expect_at_least": (0, 3), "expect_choice": (4,),
                   "expect_architecture": (3,), "curve": (0,), "heatmap": (0,), "draw_fit": (1,), "dead_note": (2,)}
HANGUL = re.compile("[가-힣]")
LECTURE_TERMS = {"underlying"}  # a figure's series named as the lecture names it, the same in both languages
BILINGUAL_CALLS = {"describe"}  # return a Msg: formatted into text, only its English would show
BILINGUAL_ATTRIBUTES = {"error"}  # Call.error is a Msg


def _is_bare_text(node: ast.AST) -> bool:
    """Text the same in every language: a string, an f-string, or a sum of them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_bare_text(node.left) and _is_bare_text(node.right)
    return False


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _messages(tree: ast.AST):
    """(line, node) of everything a student may read: assert messages, raised errors' messages, and the message
    arguments of the shared helpers."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            yield node.lineno, node.msg
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and RAISED.search(_name(node.exc.func)):
            yield from ((node.lineno, arg) for arg in node.exc.args[:1])
        elif isinstance(node, ast.Call) and _name(node.func) in MESSAGE_HELPERS:
            positions = MESSAGE_HELPERS[_name(node.func)]
            yield from ((node.lineno, node.args[i]) for i in positions if i < len(node.args))
            yield from ((node.lineno, k.value) for k in node.keywords if k.arg in ("hint", "title", "what"))


def _series_names(tree: ast.AST):
    """(line, node) of the names of a figure's series: the keys of the dict given to `curve`, also inside `**{...}`,
    and the default of a `label` parameter."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "curve" and len(node.args) > 2:
            for part in ast.walk(node.args[2]):
                keys = part.keys if isinstance(part, ast.Dict) else [part.key] if isinstance(part, ast.DictComp) else []
                yield from ((part.lineno, key) for key in keys if key is not None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            named = node.args.args[len(node.args.args) - len(node.args.defaults):] + node.args.kwonlyargs
            defaults = list(node.args.defaults) + list(node.args.kw_defaults)
            yield from ((node.lineno, d) for a, d in zip(named, defaults) if a.arg == "label" and d is not None)


@pytest.mark.parametrize("path", [*HOMEWORK_FILES, KIT_CHECKS], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_message_is_in_one_language_only(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bare = [line for line, node in _messages(tree) if _is_bare_text(node)]
    assert bare == [], f"{path.name}: lines {bare} give a student text in one language; write msg(ko=..., en=...)"


@pytest.mark.parametrize("path", HOMEWORK_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_figure_series_are_named_in_both_languages(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bare = [line for line, node in _series_names(tree)
            if _is_bare_text(node) and not (isinstance(node, ast.Constant) and node.value in LECTURE_TERMS)]
    assert bare == [], f"{path.name}: lines {bare} name a figure's series in one language; write msg(ko=..., en=...)"


def _formats_a_bilingual_message(node: ast.AST) -> bool:
    """An f-string part that is a Msg itself (`{call.error}`, `{sub.describe(name)}`), not its `.ko`/`.en`."""
    value = node.value
    if isinstance(value, ast.Call):
        return _name(value.func) in BILINGUAL_CALLS
    return isinstance(value, ast.Attribute) and value.attr in BILINGUAL_ATTRIBUTES


@pytest.mark.parametrize("path", [*HOMEWORK_FILES, KIT_CHECKS], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_message_formats_a_bilingual_one_into_english(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    formatted = sorted({node.lineno for node in ast.walk(tree)
                        if isinstance(node, ast.FormattedValue) and _formats_a_bilingual_message(node)})
    assert formatted == [], (f"{path.name}: lines {formatted} format a bilingual message into text, so only its "
                             "English shows; join it with + (or use its .ko / .en in the matching language)")


@pytest.mark.parametrize("path", HOMEWORK_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_msg_has_korean_and_english(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "msg":
            given = {k.arg: k.value for k in node.keywords}
            assert set(given) == {"ko", "en"}, f"{path.name}:{node.lineno}: msg needs ko= and en="
            ko, en = ast.unparse(given["ko"]), ast.unparse(given["en"])
            assert HANGUL.search(ko) or ko == en, f"{path.name}:{node.lineno}: ko= has no Korean: {ko}"
            assert not HANGUL.search(en), f"{path.name}:{node.lineno}: en= has Korean: {en}"


def test_both_homeworks_are_covered():
    assert {p.parent.name for p in HOMEWORK_FILES} == {"hw1_loss_comparison", "hw2_dnn"}
    messages = sum(1 for path in HOMEWORK_FILES if path.name.startswith("test_")
                   for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(node, ast.Call) and _name(node.func) == "msg")
    assert messages > 50
