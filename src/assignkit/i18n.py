"""The language of what a student reads: the kit's own strings through gettext catalogs, Babel's format.

The English text in the code is the message id; `locale/ko/LC_MESSAGES/assignkit.po` holds its Korean (made with
`make locale`: pybabel extract, then update). The .po is read at run time with Babel and compiled in memory, so
no compiled .mo is kept beside it that could go stale, and installing the kit needs no build step; reading the
catalog takes a few milliseconds once per process.

The language is chosen by the course (`c.Assignkit.language` in nbgrader_config.py, `ko` when absent) and can be
overridden per run (`--lang`); it is passed explicitly to whatever renders text, never kept in a global.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
DOMAIN = "assignkit"
LOCALE_FOLDER = Path(__file__).parent / "locale"


class UnknownLanguage(ValueError):
    """A language the kit has no catalog for; the message names it and the known ones."""


def N_(message: str) -> str:
    """Marks a message id for extraction where it is defined; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Message:
    """Text in no language yet, for typed results: a message id marked with `N_` and its parameters, of which
    any may itself be a Message. `text(lang)` is what a reader of `lang` sees; str() is the English."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        params = {name: value.text(lang) if isinstance(value, Message) else value
                  for name, value in self.params.items()}
        return gettext_for(lang)(self.message).format(**params)

    def __str__(self) -> str:
        return self.text("en")


def check_language(lang: str) -> str:
    """`lang` itself when the kit speaks it, else UnknownLanguage naming it and the known ones."""
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"unknown language {lang!r}: assignkit speaks {', '.join(LANGUAGES)}")
    return lang


def catalog_path(lang: str, domain: str = DOMAIN) -> Path:
    return LOCALE_FOLDER / lang / "LC_MESSAGES" / f"{domain}.po"


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The kit's messages in `lang`; English is the message ids themselves."""
    check_language(lang)
    path = catalog_path(lang)
    if lang == "en" or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: their English is shown until reviewed
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext_for(lang: str):
    """The `_` of a language: `_("English text")` -> the text in `lang`."""
    return translations(lang).gettext


def course_language(nbgrader_config: Path) -> str:
    """The language a course chose (`c.Assignkit.language = "ko"` in its nbgrader_config.py); `ko` when the
    file or the key is absent."""
    if not nbgrader_config.is_file():
        return DEFAULT_LANGUAGE
    from traitlets.config.loader import PyFileConfigLoader  # only when a course is read

    config = PyFileConfigLoader(nbgrader_config.name, path=str(nbgrader_config.parent)).load_config()
    lang = config.Assignkit.get("language", DEFAULT_LANGUAGE)
    try:
        return check_language(lang)
    except UnknownLanguage as error:
        raise UnknownLanguage(f"{nbgrader_config}: c.Assignkit.language: {error}") from None
