"""Secrets given by reference in the config, resolved lazily, and redacted everywhere.

A :class:`Secret` is one of::

    password = "literal"                     # allowed; ``is_literal`` so doctor can warn
    password = {env = "XFINITY_PASSWORD"}
    password = {file = "~/.config/capwatch/isp-password"}
    password = {command = "pass show isp"}
    password = {keyring = "service/username"}

``repr``/``str`` and pydantic serialisation show the reference, never the value; every value
revealed (or given to :func:`register_secret`) is replaced by ``***`` in :func:`redact`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args
from urllib.parse import quote, quote_plus

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from capwatch.errors import ConfigError, MissingExtra

SecretKind = Literal["literal", "env", "file", "command", "keyring"]
REFERENCE_KINDS: tuple[str, ...] = ("env", "file", "command", "keyring")
COMMAND_TIMEOUT_S = 10.0
MASK = "***"
# A literal secret's value in dumps unless the caller asks to reveal literals.
LITERAL_MASK = "**********"
_MIN_REDACT_LEN = 4

_EXAMPLES = {
    "env": "XFINITY_PASSWORD",
    "file": "~/.config/capwatch/password",
    "command": "pass show isp",
    "keyring": "capwatch/home",
}

_lock = threading.Lock()
_registered: set[str] = set()


def register_secret(value: str) -> None:
    """Add ``value`` (a token, cookie, password) to the process-wide redaction set."""
    if not value or len(value) < _MIN_REDACT_LEN:
        return
    forms = {value, quote(value, safe=""), quote_plus(value), quote(value)}
    with _lock:
        _registered.update(f for f in forms if len(f) >= _MIN_REDACT_LEN)


_pattern: tuple[frozenset[str], re.Pattern[str] | None] = (frozenset(), None)


def redact(text: str) -> str:
    """Replace every registered secret (and its URL-encoded forms) in ``text`` with ``***``.

    Whole values only: a secret is masked where it does not run on into more letters or
    digits, so a secret never eats into an unrelated word ("xfinity" stays "xfinity").
    """
    global _pattern
    if not _registered or not text:
        return text
    with _lock:
        known = frozenset(_registered)
        if _pattern[0] != known:
            values = sorted(known, key=len, reverse=True)
            body = "|".join(re.escape(v) for v in values)
            _pattern = (known, re.compile(f"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])"))
        pattern = _pattern[1]
    assert pattern is not None
    return pattern.sub(MASK, text)


def _clear_registry_for_tests() -> None:
    with _lock:
        _registered.clear()


class Secret:
    """A config value given literally or by reference; :meth:`reveal` resolves it lazily."""

    __slots__ = ("_cache", "kind", "ref")
    kinds: ClassVar[tuple[str, ...]] = get_args(SecretKind)

    def __init__(self, kind: SecretKind, ref: str) -> None:
        if kind not in self.kinds:
            raise ValueError(f"unknown secret kind {kind!r}")
        self.kind: SecretKind = kind
        self.ref = ref
        self._cache: str | None = None

    @classmethod
    def literal(cls, value: str) -> Secret:
        """A secret written into the config itself."""
        return cls("literal", value)

    @classmethod
    def parse(cls, value: object) -> Secret:
        """Build a Secret from a config value: a string or a one-key table."""
        if isinstance(value, Secret):
            return value
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("a secret must not be empty")
            return cls("literal", value)
        if isinstance(value, Mapping):
            keys = [str(k) for k in value]
            if len(keys) != 1 or keys[0] not in REFERENCE_KINDS:
                got = ", ".join(keys) or "an empty table"
                raise ValueError(
                    "a secret reference needs exactly one of env, file, command, keyring "
                    f"(got {got})"
                )
            kind = keys[0]
            ref = value[kind]
            if not isinstance(ref, str) or not ref.strip():
                raise ValueError(f"secret reference {kind} must be a non-empty string")
            if kind == "keyring" and "/" not in ref:
                raise ValueError("secret reference keyring must look like 'service/username'")
            return cls(kind, ref)  # type: ignore[arg-type]
        raise ValueError(
            f'expected a string or a table like {{env = "VAR"}} (got {type(value).__name__})'
        )

    @classmethod
    def from_cli(cls, text: str) -> Secret:
        """Parse ``env:VAR``, ``file:PATH``, ``command:CMD``, ``keyring:S/U``; else literal."""
        kind, sep, ref = text.partition(":")
        if sep and kind in REFERENCE_KINDS:
            if not ref.strip():
                raise ValueError(f"{kind}: needs what to read, e.g. {kind}:{_EXAMPLES[kind]}")
            return cls.parse({kind: ref})
        if sep and kind == "literal":
            return cls("literal", ref)
        return cls("literal", text)

    @property
    def is_literal(self) -> bool:
        """True when the value is written in the config itself (doctor warns)."""
        return self.kind == "literal"

    def describe(self) -> str:
        """The reference for messages, never the value: ``env=VAR``, ``literal``."""
        return "literal" if self.is_literal else f"{self.kind}={self.ref}"

    def reference(self, *, reveal_literal: bool = False) -> str | dict[str, str]:
        """The config form: a ``{kind: ref}`` table, or the (masked) literal string."""
        if self.is_literal:
            return self.ref if reveal_literal else LITERAL_MASK
        return {self.kind: self.ref}

    def reveal(self) -> str:
        """Resolve and return the value (cached); ConfigError naming the reference on failure."""
        if self._cache is None:
            value = self._resolve()
            if not value.strip():
                raise ConfigError(f"secret {self.describe()}: resolves to an empty value")
            if len(value) < _MIN_REDACT_LEN:
                raise ConfigError(
                    f"secret {self.describe()}: shorter than {_MIN_REDACT_LEN} characters, too "
                    "short to keep out of logs safely"
                )
            register_secret(value)
            self._cache = value
        return self._cache

    def _resolve(self) -> str:
        if self.kind == "literal":
            return self.ref
        if self.kind == "env":
            value = os.environ.get(self.ref)
            if value is None:
                raise ConfigError(f"secret env={self.ref}: environment variable is not set")
            return value
        if self.kind == "file":
            return _read_file(self.ref)
        if self.kind == "command":
            return _run_command(self.ref)
        return _read_keyring(self.ref)

    def __repr__(self) -> str:
        return f"Secret({self.describe()})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return (self.kind, self.ref) == (other.kind, other.ref)

    def __hash__(self) -> int:
        return hash((self.kind, self.ref))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validate with :meth:`parse`; serialise to the reference, never the value."""
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize, info_arg=True
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """A string, or a one-key object naming where the value lives."""
        ref = {"type": "object", "minProperties": 1, "maxProperties": 1}
        ref["properties"] = {k: {"type": "string"} for k in REFERENCE_KINDS}
        return {"anyOf": [{"type": "string"}, ref]}


def _serialize(secret: Secret, info: core_schema.SerializationInfo) -> str | dict[str, str]:
    ctx = info.context if isinstance(info.context, Mapping) else {}
    return secret.reference(reveal_literal=bool(ctx.get("reveal_literal_secrets")))


def _read_file(ref: str) -> str:
    path = Path(ref).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"secret file={ref}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"secret file={ref}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"secret file={ref}: not UTF-8 text") from None
    return text.rstrip("\r\n")


def _run_command(ref: str) -> str:
    try:
        argv = shlex.split(ref)
    except ValueError as exc:
        raise ConfigError(f"secret command={ref}: cannot parse ({exc})") from None
    if not argv:
        raise ConfigError("secret command: empty command")
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise ConfigError(f"secret command={ref}: {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"secret command={ref}: timed out after {COMMAND_TIMEOUT_S:g} s"
        ) from None
    except OSError as exc:
        raise ConfigError(f"secret command={ref}: cannot run ({exc.strerror})") from None
    if proc.returncode != 0:
        raise ConfigError(f"secret command={ref}: exited with status {proc.returncode}")
    value = proc.stdout.decode("utf-8", errors="replace").strip()
    if not value:
        raise ConfigError(f"secret command={ref}: printed nothing")
    return value


def _read_keyring(ref: str) -> str:
    try:
        import keyring
    except ImportError:
        raise MissingExtra("keyring", "keyring") from None
    service, _, username = ref.rpartition("/")
    try:
        value = keyring.get_password(service, username)
    except Exception as exc:  # keyring backends raise their own error types
        raise ConfigError(f"secret keyring={ref}: {type(exc).__name__}") from None
    if value is None:
        raise ConfigError(f"secret keyring={ref}: no such entry in the keyring")
    return str(value)
