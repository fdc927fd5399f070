"""Gettext catalog tooling: extract, update, init, compile, check (python -m bot.i18n.catalogs)."""

from __future__ import annotations

import argparse
import datetime
import gettext
import io
import re
import struct
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from string import Formatter

from babel.core import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, escape, read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bot", "handlers")
DOMAIN = "messages"
KEYWORDS = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
COMMENT_TAGS = ("TRANSLATORS:",)
HEADER = (
    "# Translations template for PROJECT.\n"
    "# This file is distributed under the same license as the PROJECT project.\n"
    "#"
)
# A plural form may drop the count placeholder when the language's rule maps exactly one number
# to it (English "One case", Arabic's zero/one/two forms). Which placeholder is "the count" is
# decided by name (a child's age is a count of years); the numbers a form covers are found by
# evaluating the catalog's plural expression for every n below PLURAL_SAMPLE.
COUNT_NAMES = ("count", "n", "num", "number", "age")
PLURAL_SAMPLE = 10_000
PERCENT_RE = re.compile(r"%%|%\((?P<name>[^)]*)\)[#0 +-]*\d*(?:\.\d+)?(?P<type>[diouxXeEfFgGcrsa])")


class CatalogError(Exception):
    """A command cannot run (missing template, existing catalog, unknown language)."""


def pot_path(root: Path) -> Path:
    return root / "locales" / f"{DOMAIN}.pot"


def po_path(root: Path, language: str) -> Path:
    return root / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def present_languages(root: Path) -> list[str]:
    """Every language with a catalog under locales/, sorted."""
    found = (root / "locales").glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    return sorted(path.parent.parent.name for path in found)


def load(root: Path, path: Path, language: str | None = None) -> Catalog:
    """Read a .po/.pot; syntax errors and surplus plural forms raise instead of being skipped."""
    try:
        with path.open("rb") as fileobj:
            return read_po(fileobj, language, DOMAIN, ignore_obsolete=True, abort_invalid=True)
    except PoFileError as exc:
        raise CatalogError(f"{relative(root, path)}: invalid PO file ({exc})") from exc


def render_po(catalog: Catalog) -> bytes:
    """A catalog as .po/.pot bytes: sorted, no line numbers, obsolete entries dropped."""
    buffer = io.BytesIO()
    write_po(
        buffer,
        catalog,
        sort_output=True,
        include_lineno=False,
        ignore_obsolete=True,
        include_previous=True,
    )
    return buffer.getvalue()


def render_mo(catalog: Catalog) -> bytes:
    """A catalog compiled to .mo bytes; fuzzy and untranslated entries are left out."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def mo_content(data: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """What a .mo says: its header and its messages, not the version of the tool that wrote it."""
    catalog = read_mo(io.BytesIO(data))
    headers = [(name, value) for name, value in catalog.mime_headers if name != "Generated-By"]
    messages = sorted(
        (message.context or "", repr(message.id), repr(message.string))
        for message in catalog
        if message.id
    )
    return headers, messages


def mo_is_current(path: Path, catalog: Catalog) -> bool:
    """Whether a compiled file says what the catalog says (an unreadable one does not)."""
    try:
        return mo_content(path.read_bytes()) == mo_content(render_mo(catalog))
    except (OSError, ValueError, struct.error, UnicodeDecodeError):
        return False


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)


def extract_catalog(root: Path) -> Catalog:
    """Scan the source directories for marked strings and return them as a template."""
    catalog = Catalog(
        project="Sportello", domain=DOMAIN, header_comment=HEADER, creation_date=now()
    )
    for directory in SOURCE_DIRS:  # a missing directory yields nothing
        found = extract_from_dir(
            root / directory,
            [("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=COMMENT_TAGS,
            strip_comment_tags=True,
        )
        for filename, lineno, message, comments, context in found:
            location = (f"{directory}/{filename}", lineno)
            catalog.add(message, None, [location], auto_comments=comments, context=context)
    return catalog


def extract(root: Path) -> tuple[bool, int]:
    """Write the template; its creation date only moves when its content changes."""
    path = pot_path(root)
    catalog = extract_catalog(root)
    if path.exists():
        catalog.creation_date = load(root, path).creation_date
        if render_po(catalog) == path.read_bytes():
            return False, len(catalog)
        catalog.creation_date = now()
    return write_if_changed(path, render_po(catalog)), len(catalog)


def template_path(root: Path) -> Path:
    path = pot_path(root)
    if not path.exists():
        raise CatalogError(
            f"{relative(root, path)}: missing (run: python -m bot.i18n.catalogs extract)"
        )
    return path


def load_template(root: Path) -> Catalog:
    return load(root, template_path(root))


def update(root: Path) -> list[str]:
    """Merge the template into every catalog; return the languages whose file changed."""
    template = load_template(root)
    changed = []
    for language in present_languages(root):
        path = po_path(root, language)
        catalog = load(root, path, language)
        catalog.update(template)
        if write_if_changed(path, render_po(catalog)):
            changed.append(language)
    return changed


def plural_rule(language: str) -> tuple[int, str]:
    """Babel's gettext plural rule (nplurals, expression) for a language."""
    try:
        rule = get_plural(Locale.parse(language))
    except (UnknownLocaleError, ValueError) as exc:
        raise CatalogError(f"unknown language {language!r}") from exc
    return rule.num_plurals, rule.plural_expr


def init(root: Path, language: str) -> Path:
    """Create the catalog of a new language from the template."""
    plural_rule(language)
    path = po_path(root, language)
    if path.exists():
        raise CatalogError(f"{relative(root, path)}: already exists (use update)")
    # Read as the template it is (two plural forms), then given the language, whose locale sets
    # the Plural-Forms header: each plural entry gets as many empty forms as the language has.
    catalog = load(root, template_path(root))
    catalog.locale = Locale.parse(language)
    for message in catalog:
        if message.id and message.pluralizable:
            message.string = ("",) * catalog.num_plurals
    catalog.revision_date = now()
    catalog.fuzzy = False
    write_if_changed(path, render_po(catalog))
    return path


def compile_all(root: Path) -> list[str]:
    """Write each catalog's .mo; return the languages whose file changed."""
    changed = []
    for language in present_languages(root):
        path = po_path(root, language)
        catalog = load(root, path, language)
        mo = path.with_suffix(".mo")
        if mo.exists() and mo_is_current(mo, catalog):
            continue  # a newer Babel alone would only change the Generated-By line
        write_if_changed(mo, render_mo(catalog))
        changed.append(language)
    return changed


def placeholders(text: str) -> frozenset[str]:
    """The named placeholders of a text ({name}, %(name)s); ValueError on unbalanced braces."""
    found = {
        f"%({m['name']}){m['type']}" for m in PERCENT_RE.finditer(text) if m["name"] is not None
    }
    for _literal, field, spec, _conversion in Formatter().parse(text):
        if field is not None:
            found.add("{" + re.split(r"[.\[]", field, maxsplit=1)[0] + "}")
        if spec:
            found |= placeholders(spec)
    return frozenset(found)


def single_number_forms(expression: str, nplurals: int) -> frozenset[int]:
    """The plural forms that the expression selects for exactly one n (0 <= n < PLURAL_SAMPLE)."""
    try:
        rule = gettext.c2py(expression)
    except ValueError:
        return frozenset()  # reported by check_header
    hits = Counter(rule(n) for n in range(PLURAL_SAMPLE))
    return frozenset(form for form in range(nplurals) if hits[form] == 1)


def describe(message: Message) -> str:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    context = f" (context {escape(message.context)})" if message.context else ""
    return f"msgid {escape(msgid)}{context}"


def check_text(
    label: str,
    text: str,
    expected: frozenset[str],
    source: str,
    droppable: frozenset[str] = frozenset(),
) -> list[str]:
    """Problems of one translated text against the placeholders of its source."""
    try:
        found = placeholders(text)
    except ValueError as exc:
        return [f"{label}: unbalanced braces in translation ({exc})"]
    missing = [
        f"{label}: placeholder {p} missing in translation"
        for p in sorted(expected - found - droppable)
    ]
    extra = [f"{label}: placeholder {p} not in {source}" for p in sorted(found - expected)]
    return missing + extra


def check_plural(message: Message, nplurals: int, single: frozenset[int]) -> list[str]:
    label = describe(message)
    forms = [message.string] if isinstance(message.string, str) else list(message.string or ())
    if not any(forms):
        return [f"{label}: untranslated"]
    problems = []
    if len(forms) != nplurals:
        problems.append(f"{label}: has {len(forms)} plural forms, Babel expects {nplurals}")
    expected = placeholders(message.id[1])
    counts = frozenset(f"{{{name}}}" for name in COUNT_NAMES)
    for index, form in enumerate(forms):
        form_label = f"{label} plural form {index}"
        if not form:
            problems.append(f"{form_label}: empty")
            continue
        droppable = counts if index in single else frozenset()
        problems += check_text(form_label, form, expected, "msgid_plural", droppable)
    return problems


def check_message(
    message: Message, template: Message, nplurals: int, single: frozenset[int]
) -> list[str]:
    """Problems of one catalog entry: stale, fuzzy, untranslated, placeholders, plural forms."""
    label = describe(message)
    if message.id != template.id:
        return [f"{label}: differs from the template's msgid/msgid_plural (run update)"]
    problems = [f"{label}: fuzzy (review it, then remove the fuzzy flag)"] if message.fuzzy else []
    try:
        if message.pluralizable:
            return problems + check_plural(message, nplurals, single)
        if not message.string:
            return [*problems, f"{label}: untranslated"]
        assert isinstance(message.string, str) and isinstance(message.id, str)
        return problems + check_text(label, message.string, placeholders(message.id), "msgid")
    except ValueError as exc:
        return [*problems, f"{label}: unbalanced braces in msgid ({exc})"]


def first_difference(expression: str, reference: str) -> tuple[int, int, int] | None:
    """The first n (0 <= n < PLURAL_SAMPLE) where two plural expressions pick different forms."""
    ours, theirs = gettext.c2py(expression), gettext.c2py(reference)
    for n in range(PLURAL_SAMPLE):
        if ours(n) != theirs(n):
            return n, ours(n), theirs(n)
    return None


def check_header(catalog: Catalog, language: str, rule: tuple[int, str]) -> list[str]:
    """Problems of the header: fuzzy, a plural rule other than Babel's, an invalid expression."""
    problems = ["header is fuzzy (remove the fuzzy flag)"] if catalog.fuzzy else []
    if catalog.num_plurals != rule[0]:
        problems.append(
            f"Plural-Forms has nplurals={catalog.num_plurals}, Babel expects "
            f"nplurals={rule[0]} for {language!r} (plural={rule[1]})"
        )
    try:
        difference = first_difference(catalog.plural_expr, rule[1])
    except ValueError as exc:
        problems.append(f"invalid Plural-Forms expression {catalog.plural_expr!r} ({exc})")
        return problems
    # The same count with a different rule would put the translators' forms on the wrong numbers.
    if difference is not None and catalog.num_plurals == rule[0]:
        n, ours, babel = difference
        problems.append(
            f"Plural-Forms picks form {ours} for n={n}, Babel picks form {babel} for "
            f"{language!r} (plural={rule[1]})"
        )
    return problems


def check_language(root: Path, language: str, template: Catalog) -> list[str]:
    """Every problem of one language's .po and .mo, one line each."""
    path = po_path(root, language)
    where = relative(root, path)
    if not path.exists():
        return [f"{where}: no catalog for language {language!r} (run init {language})"]
    try:
        rule = plural_rule(language)
    except CatalogError as exc:
        return [f"{where}: {exc}"]
    try:
        catalog = load(root, path, language)
    except CatalogError as exc:
        return [str(exc)]
    problems = check_header(catalog, language, rule)
    single = single_number_forms(catalog.plural_expr, catalog.num_plurals)
    for entry in template:
        if not entry.id:
            continue
        message = catalog.get(entry.id, entry.context)
        if message is None:
            problems.append(f"{describe(entry)}: missing from the catalog (run update)")
        else:
            problems += check_message(message, entry, rule[0], single)
    lines = [f"{where}: {problem}" for problem in problems]
    mo = path.with_suffix(".mo")
    if not mo.exists():
        lines.append(f"{relative(root, mo)}: missing (run compile)")
    elif not mo_is_current(mo, catalog):
        lines.append(f"{relative(root, mo)}: out of date with {path.name} (run compile)")
    return lines


def message_keys(catalog: Catalog) -> dict[tuple[str | None, object], Message]:
    return {
        (m.context, tuple(m.id) if isinstance(m.id, list) else m.id): m for m in catalog if m.id
    }


def check_template(root: Path, template: Catalog) -> list[str]:
    """Messages that differ between the template and a fresh extraction of the source."""
    where = relative(root, pot_path(root))
    source, current = message_keys(extract_catalog(root)), message_keys(template)
    added = [
        f"{where}: {describe(source[k])}: in the source but not in the template (run extract)"
        for k in source.keys() - current.keys()
    ]
    removed = [
        f"{where}: {describe(current[k])}: no longer in the source (run extract)"
        for k in current.keys() - source.keys()
    ]
    return sorted(added) + sorted(removed)


def check(root: Path, languages: Sequence[str] | None = None) -> list[str]:
    """Every problem of the template and the catalogs, one line each (empty when all is well)."""
    template = load_template(root)
    problems = check_template(root, template)
    for language in present_languages(root) if languages is None else languages:
        problems += check_language(root, language, template)
    return problems


def parse_languages(value: str) -> list[str]:
    return [language.strip() for language in value.split(",") if language.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.i18n.catalogs", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help=f"scan {', '.join(SOURCE_DIRS)} into the template")
    commands.add_parser("update", help="merge the template into every catalog")
    commands.add_parser("init", help="create the catalog of a new language").add_argument(
        "language"
    )
    commands.add_parser("compile", help="write each catalog's .mo")
    checker = commands.add_parser("check", help="fail on any incomplete or inconsistent catalog")
    checker.add_argument(
        "--languages",
        type=parse_languages,
        default=None,
        help="comma-separated, e.g. it,en,ar (default: every catalog present)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    if args.command == "extract":
        written, count = extract(root)
        state = "written" if written else "unchanged"
        print(f"{relative(root, pot_path(root))}: {count} messages, {state}")
    elif args.command == "update":
        print(f"updated: {', '.join(update(root)) or 'nothing changed'}")
    elif args.command == "init":
        print(f"created {relative(root, init(root, args.language))}")
    elif args.command == "compile":
        print(f"compiled: {', '.join(compile_all(root)) or 'nothing changed'}")
    else:
        problems = check(root, args.languages)
        for problem in problems:
            print(problem)
        if problems:
            return 1
        languages = present_languages(root) if args.languages is None else args.languages
        print(f"catalogs OK: {len(languages)} languages, {len(load_template(root))} messages")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except CatalogError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
