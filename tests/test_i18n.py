"""Every user-facing string is translatable, and the English catalog covers all of them."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "learning" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _source_ids() -> set[str]:
    ids: set[str] = set()
    for folder, method in (("learning", "python"), ("templates", "jinja2")):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder, method_map=[("**.py" if method == "python" else "**.html", method)],
            keywords=KEYWORDS,
        ):
            ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_english_catalog_translates_every_message():
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    translated = {m.id: m.string for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(_source_ids() - set(translated))
    assert not missing, f"untranslated (run pybabel extract/update and fill the .po): {missing}"


def test_compiled_catalog_is_up_to_date():
    with PO.open("rb") as fh:
        po = {m.id: m.string for m in read_po(fh, locale="en") if m.id}
    with PO.with_suffix(".mo").open("rb") as fh:
        mo = {m.id: m.string for m in read_mo(fh) if m.id}
    assert po == mo, "recompile: pybabel compile -d learning/translations"
