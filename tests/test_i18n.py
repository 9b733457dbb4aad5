"""The kit's own messages: the Korean catalog is current with the code and complete, and the language is chosen
explicitly (course config, then --lang)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from assignkit import i18n
from assignkit.i18n import UnknownLanguage, catalog_path, course_language, gettext_for
from assignkit.preflight import NotGradable, prepare

PACKAGE = Path(i18n.__file__).parent
ROOT = Path(__file__).resolve().parents[1]


def _catalog():
    with catalog_path("ko").open("rb") as po_file:
        return read_po(po_file, locale="ko")


def test_korean_catalog_holds_exactly_the_message_ids_in_the_code():
    in_code = {message for _, _, message, _, _ in extract_from_dir(str(PACKAGE)) if isinstance(message, str)}
    in_catalog = {m.id for m in _catalog() if m.id}
    assert len(in_code) > 50
    assert in_code - in_catalog == set(), "new messages: run `make locale` and translate them"
    assert in_catalog - in_code == set(), "messages no longer in the code: run `make locale`"


# What carries a message id to be translated where it is shown: its first argument must be an extracted id (an
# `N_` call, or a name, attribute or function giving one), never text made on the spot, which no catalog holds.
TRANSLATED_LATER = {"Message", "Reason", "NotGradable", "Refused"}
PLACEHOLDER_ONLY = re.compile(r"\{\w+\}")  # NotGradable("{problem}", problem=a Message): nothing to translate


def _message_ids_made_on_the_spot(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in TRANSLATED_LATER \
                and node.args:
            first = node.args[0]
            made = (isinstance(first, (ast.JoinedStr, ast.BinOp))
                    or (isinstance(first, ast.Constant) and not PLACEHOLDER_ONLY.fullmatch(str(first.value)))
                    or (isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute)))  # "...".format()
            if made:
                lines.append(node.lineno)
    return lines


def test_every_translatable_message_is_marked_for_extraction():
    made = {path.name: _message_ids_made_on_the_spot(ast.parse(path.read_text())) for path in PACKAGE.glob("*.py")}
    assert {name: lines for name, lines in made.items() if lines} == {}


def test_the_marking_test_finds_a_message_made_on_the_spot():
    code = ('raise NotGradable(f"cell {n} is bad")\nMessage(N_("fine {x}"), {"x": 1})\nNotGradable("{problem}")\n'
            'Reason("cell {n}".format(n=1))\nRefused("plain English")\nNotGradable(_kind_of(data))\n')
    assert _message_ids_made_on_the_spot(ast.parse(code)) == [1, 4, 5]


def test_every_korean_entry_is_translated_reviewed_and_keeps_its_placeholders():
    for message in _catalog():
        if not message.id:
            continue
        assert message.string and not message.fuzzy, message.id
        assert re.search("[가-힣]", message.string), message.id
        assert set(re.findall(r"\{\w+\}", message.id)) == set(re.findall(r"\{\w+\}", message.string)), message.id


def test_a_message_in_each_language():
    assert gettext_for("ko")("Graded") == "채점 완료 (graded)"
    assert gettext_for("en")("Graded") == "Graded"
    with pytest.raises(UnknownLanguage, match="'fr'.*ko, en"):
        gettext_for("fr")


def test_the_course_chooses_its_language(tmp_path):
    config = tmp_path / "nbgrader_config.py"
    assert course_language(config) == "ko"  # no file
    config.write_text("c = get_config()\nc.CourseDirectory.source_directory = 'source'\n")
    assert course_language(config) == "ko"  # no key
    config.write_text("c = get_config()\nc.Assignkit.language = 'en'\n")
    assert course_language(config) == "en"
    config.write_text("c = get_config()\nc.Assignkit.language = 'de'\n")
    with pytest.raises(UnknownLanguage, match=r"nbgrader_config.py: c.Assignkit.language: .*'de'"):
        course_language(config)
    assert course_language(ROOT / "nbgrader_config.py") == "ko"  # this course


def test_not_gradable_reasons_in_both_languages():
    with pytest.raises(NotGradable) as caught:
        prepare(b"[1, 2]", None, "hw1_loss_comparison")
    assert str(caught.value) == "not a notebook: the file is JSON but holds a list, not a notebook"
    assert caught.value.text("en") == str(caught.value)
    assert caught.value.text("ko") == "노트북이 아닙니다: 파일이 JSON이지만 노트북이 아니라 목록(list)입니다"
    with pytest.raises(NotGradable) as caught:
        prepare(b'{"cells": [], "nbformat": 3}', None, "hw1_loss_comparison")
    assert caught.value.text("ko") == "노트북이 아닙니다: 오래된 nbformat 3 형식입니다. Jupyter에서 열어 다시 저장하세요"
