"""Message content, built apart from sending: the data an incident offers templates, rendering in a
sandbox where missing data is an error naming the field, and the changes a person made to a draft.

Templates live in templates/: <name>.txt.j2 (plain text), <name>.html.j2 (HTML, autoescaped) and a
subject line in templates/catalog.toml, which also names each template's audience and clock."""
from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, meta
from jinja2.exceptions import UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from core.adapters.smtp import check_subject
from core.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "templates"


class MissingTemplateData(ValueError):
    """A template needs a field the incident does not have (yet)."""

    def __init__(self, template: str, field: str):
        super().__init__(f"template {template!r} needs {field}, which is missing")
        self.template, self.field = template, field


class _FieldMissing(UndefinedError):
    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


class _MissingField(StrictUndefined):
    """Like StrictUndefined, but the error names the full path of the field (dpo.email)."""

    __slots__ = ()

    def __init__(self, hint=None, obj=None, name=None, exc=None):
        super().__init__(hint=hint, obj=obj, name=name, exc=_FieldMissing)

    @property
    def _undefined_message(self) -> str:
        parent = getattr(self._undefined_obj, "_path", None)
        name = self._undefined_name
        return f"{parent}.{name}" if parent and name else (name or parent or "a value")


class Record:
    """A read-only view of the template data that knows its own path, for error messages.
    None counts as missing: a template never prints "None" or a blank where data should be."""

    __slots__ = ("_data", "_path", "_seen")

    def __init__(self, data: Mapping[str, Any], path: str = "", seen: set[str] | None = None):
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or self._data.get(name) is None:
            raise AttributeError(name)
        path = f"{self._path}.{name}" if self._path else name
        if self._seen is not None:
            self._seen.add(path)
        return _wrap(self._data[name], path, self._seen)

    def __getitem__(self, name):
        raise TypeError("use attribute access")


def _wrap(value: Any, path: str, seen: set[str] | None) -> Any:
    if isinstance(value, Mapping):
        return Record(value, path, seen)
    if isinstance(value, (list, tuple)):
        return [_wrap(v, f"{path}[{n}]", seen) for n, v in enumerate(value)]
    return value


@lru_cache(maxsize=1)
def catalog() -> dict:
    with (TEMPLATES_DIR / "catalog.toml").open("rb") as fh:
        return tomllib.load(fh)


def template_names() -> list[str]:
    return list(catalog()["template"])


def template_info(name: str) -> dict:
    try:
        return {"name": name, **catalog()["template"][name]}
    except KeyError:
        raise ValueError(f"no message template named {name!r}") from None


@lru_cache(maxsize=2)
def _environment(html: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(loader=FileSystemLoader(TEMPLATES_DIR), undefined=_MissingField,
                                autoescape=html, trim_blocks=True, lstrip_blocks=True,
                                keep_trailing_newline=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(name: str, context: Mapping[str, Any], seen: set[str] | None = None) -> Rendered:
    """Render subject, text and HTML. Raises MissingTemplateData naming the first missing field."""
    info = template_info(name)
    data = Record(context, "", seen)
    try:
        subject = " ".join(_environment(False).from_string(info["subject"]).render(_top(data)).split())
        text = _environment(False).get_template(f"{name}.txt.j2").render(_top(data))
        html = _environment(True).get_template(f"{name}.html.j2").render(_top(data))
    except _FieldMissing as missing:
        raise MissingTemplateData(name, missing.field) from None
    return Rendered(check_subject(subject), text, html)


def _top(data: Record) -> dict[str, Any]:
    """Top-level names as template variables; absent ones stay undefined (and so fail by name)."""
    return {key: _wrap(value, key, data._seen) for key, value in data._data.items() if value is not None}


def fields_used(name: str, context: Mapping[str, Any]) -> set[str]:
    """Every field path a template reads from this context (top-level names and nested paths)."""
    seen: set[str] = set()
    render(name, context, seen)
    env = _environment(False)
    sources = [template_info(name)["subject"]] + [
        env.loader.get_source(env, f"{name}.{part}.j2")[0] for part in ("txt", "html")]
    return seen | set().union(*(meta.find_undeclared_variables(env.parse(src)) for src in sources))


def edited_html(text: str) -> str:
    """The HTML part of a draft whose text a person changed: their words, escaped, as paragraphs."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join(f"<p>{escape(p).replace(chr(10), '<br>' + chr(10))}</p>" for p in paragraphs)
    return f"<!doctype html>\n<html><body style=\"font-family: sans-serif\">\n{body}\n</body></html>\n"


def changes(prefilled: str, edited: str) -> str:
    """A unified diff of a person's changes against the prefilled text ("" when unchanged)."""
    return "".join(difflib.unified_diff(prefilled.splitlines(keepends=True), edited.splitlines(keepends=True),
                                        fromfile="prefilled", tofile="edited"))


def render_document(template_file: str, context: Mapping[str, Any]) -> str:
    """An HTML document (the evidence pack's summary) from the same sandbox, autoescaped."""
    try:
        return _environment(True).get_template(template_file).render(_top(Record(context)))
    except _FieldMissing as missing:
        raise MissingTemplateData(template_file, missing.field) from None
