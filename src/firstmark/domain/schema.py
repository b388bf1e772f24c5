"""Declarative request schemas: one description is both the check and the OpenAPI schema.

A route declares its query parameters and JSON body with these types (web/api/contract.py);
the same objects refuse a bad request before the handler runs (`check`) and describe it in
/api/v1/openapi.json (`json_schema`), so the document cannot drift from what is enforced.
They check shape only (types, ranges, lengths, known keys); the domain parsers keep the rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from firstmark.errors import InvalidField

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_DEPTH = 32


class Schema(Protocol):
    def check(self, value: object, name: str) -> None: ...

    def json_schema(self) -> dict[str, Any]: ...


def child(parent: str, key: str | int) -> str:
    """The name of a nested field as errors report it: `options.ldu`, `conversions[2].ts`,
    `[1].name` (the second item of a list body)."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def bad_text(value: str) -> str | None:
    """Why a string cannot be stored as text on every engine: NUL (PostgreSQL refuses it) or
    a lone surrogate (not valid UTF-8). None when it is fine."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def clean_text(value: str) -> str:
    """The string without NUL and lone surrogates, for values taken from hostile edges."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "ignore").decode("utf-8")
    return value


def clean_json(value: object) -> Any:
    """`value` with NUL and lone surrogates removed from every string (keys too): for bodies
    we must accept, like a phone provider's signed webhook."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    return value


def check_json(value: object, name: str = "", depth: int = 0) -> None:
    """Refuse what no engine can store from any JSON body: NUL or invalid text (keys too),
    integers beyond 64 bits, non-finite numbers, and nesting deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise InvalidField(name or "body", "the body is nested too deeply")
    if isinstance(value, str):
        why = bad_text(value)
        if why:
            raise InvalidField(name or "body", f"{name or 'the value'} {why}", code="invalid_text")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidField(name or "body", f"{name or 'the number'} is out of range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidField(name or "body", f"{name or 'the number'} must be finite")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, child(name, index), depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            why = bad_text(key)
            if why:
                raise InvalidField(name or "body", f"a key {why}", code="invalid_text")
            check_json(item, child(name, key), depth + 1)


def _refuse(name: str, message: str, code: str = "invalid_type") -> InvalidField:
    return InvalidField(name or "body", f"{name or 'the body'} {message}", code=code)


def _doc(schema: dict[str, Any], description: str, nullable: bool) -> dict[str, Any]:
    if nullable:
        kind = schema.get("type")
        if isinstance(kind, str):
            schema["type"] = [kind, "null"]
        elif "enum" in schema:
            schema = {"anyOf": [schema, {"type": "null"}]}
    if description:
        schema["description"] = description
    return schema


@dataclass(frozen=True, slots=True)
class Str:
    max_length: int | None = None
    enum: Sequence[str] = ()
    pattern: str | None = None
    format: str | None = None
    nullable: bool = False
    description: str = ""

    def check(self, value: object, name: str) -> None:
        if value is None and self.nullable:
            return
        if not isinstance(value, str):
            raise _refuse(name, "must be a string")
        why = bad_text(value)
        if why:
            raise _refuse(name, why, "invalid_text")
        if self.max_length is not None and len(value) > self.max_length:
            raise _refuse(name, f"must be at most {self.max_length} characters", "too_long")
        if self.enum and value not in self.enum:
            raise _refuse(name, f"must be one of {', '.join(self.enum)}", "invalid_field")
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise _refuse(name, "has not the expected form", "invalid_field")

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.enum:
            out["enum"] = list(self.enum)
        if self.pattern:
            out["pattern"] = f"^(?:{self.pattern})$"
        if self.format:
            out["format"] = self.format
        return _doc(out, self.description, self.nullable)


@dataclass(frozen=True, slots=True)
class Int:
    minimum: int = INT64_MIN
    maximum: int = INT64_MAX
    nullable: bool = False
    description: str = ""

    def check(self, value: object, name: str) -> None:
        if value is None and self.nullable:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise _refuse(name, "must be a whole number")
        if not self.minimum <= value <= self.maximum:
            raise _refuse(name, f"must be from {self.minimum} to {self.maximum}", "invalid_field")

    def json_schema(self) -> dict[str, Any]:
        out = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        return _doc(out, self.description, self.nullable)


@dataclass(frozen=True, slots=True)
class Num:
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    description: str = ""

    def check(self, value: object, name: str) -> None:
        if value is None and self.nullable:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _refuse(name, "must be a number")
        if not math.isfinite(value) or abs(value) > 1e15:
            raise _refuse(name, "is out of range", "invalid_field")
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise _refuse(name, f"must be from {self.minimum} to {self.maximum}", "invalid_field")

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "number", "minimum": -1e15, "maximum": 1e15}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return _doc(out, self.description, self.nullable)


@dataclass(frozen=True, slots=True)
class Bool:
    nullable: bool = False
    description: str = ""

    def check(self, value: object, name: str) -> None:
        if value is None and self.nullable:
            return
        if not isinstance(value, bool):
            raise _refuse(name, "must be true or false")

    def json_schema(self) -> dict[str, Any]:
        return _doc({"type": "boolean"}, self.description, self.nullable)


@dataclass(frozen=True, slots=True)
class Anything:
    """Any JSON value (still subject to `check_json`); the domain parser reads it."""

    description: str = ""

    def check(self, value: object, name: str) -> None:
        return

    def json_schema(self) -> dict[str, Any]:
        return _doc({}, self.description, False)


@dataclass(frozen=True, slots=True)
class Arr:
    items: Schema
    max_items: int | None = None
    min_items: int = 0
    nullable: bool = False
    description: str = ""

    def check(self, value: object, name: str) -> None:
        if value is None and self.nullable:
            return
        if not isinstance(value, list):
            raise _refuse(name, "must be a list")
        if len(value) < self.min_items or (
            self.max_items is not None and len(value) > self.max_items
        ):
            limit = f"{self.min_items}-{self.max_items}" if self.max_items else f"≥{self.min_items}"
            raise _refuse(name, f"must hold {limit} items", "invalid_field")
        for index, item in enumerate(value):
            self.items.check(item, child(name, index))

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array", "items": self.items.json_schema()}
        if self.min_items:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        return _doc(out, self.description, self.nullable)


@dataclass(frozen=True, slots=True)
class Obj:
    """A JSON object. `extra` is the schema of keys not in `properties` (None refuses them)."""

    properties: Mapping[str, Schema] = field(default_factory=dict)
    required: Sequence[str] = ()
    extra: Schema | None = None
    max_properties: int | None = None
    nullable: bool = False
    description: str = ""

    def check(self, value: object, name: str) -> None:
        if value is None and self.nullable:
            return
        if not isinstance(value, dict):
            raise _refuse(name, "must be a JSON object")
        if self.max_properties is not None and len(value) > self.max_properties:
            raise _refuse(name, f"must hold at most {self.max_properties} keys", "invalid_field")
        for key in self.required:
            if key not in value:
                raise InvalidField(child(name, key), f"{key} is required", code="required")
        for key, item in value.items():
            schema = self.properties.get(key, self.extra)
            if schema is None:
                raise InvalidField(child(name, key), f"unknown field {key!r}", code="unknown_field")
            schema.check(item, child(name, key))

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object"}
        if self.properties:
            out["properties"] = {k: v.json_schema() for k, v in self.properties.items()}
        if self.required:
            out["required"] = list(self.required)
        out["additionalProperties"] = False if self.extra is None else self.extra.json_schema()
        if self.max_properties is not None:
            out["maxProperties"] = self.max_properties
        return _doc(out, self.description, self.nullable)


@dataclass(frozen=True, slots=True)
class OneOf:
    """One of several shapes (e.g. a single item or a batch); the first that fits wins."""

    options: Sequence[Schema]
    description: str = ""

    def check(self, value: object, name: str) -> None:
        self._closest(value).check(value, name)

    def _closest(self, value: object) -> Schema:
        """The option the value was meant for, so errors name the right field: for an
        object, the one sharing most keys; else the first of the value's type."""
        if isinstance(value, dict):
            objects = [o for o in self.options if isinstance(o, Obj)]
            if objects:
                return max(objects, key=lambda o: len(set(o.properties) & set(value)))
        if isinstance(value, list):
            for option in self.options:
                if isinstance(option, Arr):
                    return option
        return self.options[-1]

    def json_schema(self) -> dict[str, Any]:
        return _doc({"anyOf": [o.json_schema() for o in self.options]}, self.description, False)


@dataclass(frozen=True, slots=True)
class Param:
    """A query or path parameter. Query values arrive as text; `check_text` converts them."""

    name: str
    schema: Str | Int | Bool
    required: bool = False
    description: str = ""
    example: str | int | None = None

    def check_text(self, raw: str) -> None:
        if raw == "":  # an empty value means the default, as in a form
            return
        if isinstance(self.schema, Int):
            text = raw.strip()
            digits = text[1:] if text[:1] == "-" else text
            if not digits.isdigit() or len(digits) > 19:
                raise InvalidField(self.name, f"{self.name} must be a whole number")
            self.schema.check(int(text), self.name)
        elif isinstance(self.schema, Bool):
            if raw not in ("true", "false"):
                raise InvalidField(self.name, f"{self.name} must be true or false")
        else:
            self.schema.check(raw, self.name)

    def json_schema(self, where: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "in": where,
            "required": self.required or where == "path",
            "schema": self.schema.json_schema(),
        }
        if self.description:
            out["description"] = self.description
        if self.example is not None:
            out["example"] = self.example
        return out
