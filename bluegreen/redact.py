"""Keep secrets out of logs and hook output.

A `Redactor` replaces, in this order:

1. every known secret value (passed in: task-definition secrets, hook `env` values whose
   name looks secret…) with `***`. Values shorter than 4 characters are ignored — masking
   "1" or "yes" everywhere would wreck the output and protect nothing. Longer values are
   replaced first, so a secret that contains another is masked whole;
2. the value of anything that looks like a secret assignment, whatever its value:
   `KEY=value`, `"key": "value"` (JSON, or Python reprs with single quotes) and
   `key: value` (YAML, HTTP headers), where the key contains, case-insensitively, one of
   password, passwd, secret, token, api_key, apikey, access_key, private_key, credential,
   auth (`-` may stand for `_`), and a command-line flag `--password value` (a hook's
   command as shown in a plan). The key stays, so the reader still sees what was hidden;
3. AWS access key ids (`AKIA…`/`ASIA…` + 16 upper-case letters or digits, with the
   40-character secret key when one follows, as in `AKIA…:secret`); AWS secret access keys
   (40 characters of base64) after a name like `aws_secret_access_key`/`secret_key`, also
   when only a space separates them (`aws configure set aws_secret_access_key …`,
   `--aws-secret-access-key …`);
4. API tokens recognisable by their prefix wherever they appear: `sk_live_…`/`sk-live-…`
   (and `rk_`/`_test_` ones), `sk-…` keys of 20 characters or more, GitHub (`ghp_…`…) and
   Slack (`xoxb-…`…) tokens; and the credential after `Bearer`.

Over-redacting is accepted; leaking is not. Redactors are immutable: `with_values` returns
a new one. `redacting_processor` plugs a redactor into structlog.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from structlog.typing import EventDict, WrappedLogger

MASK = "***"
MIN_SECRET_LENGTH = 4

_SENSITIVE_WORD = (
    r"(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|credential|auth)"
)
# A key is one "word" (letters, digits, _ . -) that contains a sensitive word anywhere.
_KEY = rf"[\w.-]*{_SENSITIVE_WORD}[\w.-]*"
_SENSITIVE_KEY_RE = re.compile(_SENSITIVE_WORD, re.IGNORECASE)

# "key": "value" / 'key': 'value' / "key": 123 — the quoted value may hold escaped quotes.
_QUOTED_PAIR_RE = re.compile(
    rf"""(?P<pre>(?P<q>["']){_KEY}(?P=q)\s*:\s*)"""
    r"""(?P<val>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,}\]]+)""",
    re.IGNORECASE,
)
# KEY=value; a bare value ends at whitespace, `&` (query strings) or a quote (the pair may
# itself sit inside a quoted string).
_ASSIGNMENT_RE = re.compile(
    rf"""(?P<pre>(?<![\w.-]){_KEY}\s*=\s*)(?P<val>"[^"]*"|'[^']*'|[^\s&"']+)""",
    re.IGNORECASE,
)
# key: value — the rest of the line is the value ("Authorization: Basic abc" has a space).
_COLON_PAIR_RE = re.compile(
    rf"(?P<pre>(?<![\w.-]){_KEY}:[ \t]+)(?P<val>[^\r\n]+)",
    re.IGNORECASE,
)
# --password value / --db-token "a b": a flag with a secret-looking name, then its value
# (a value never starts with "-": that is the next flag).
_FLAG_RE = re.compile(
    rf"""(?P<pre>(?<![\w.-])--{_KEY}[ \t]+)(?P<val>"[^"]*"|'[^']*'|[^\s"'-][^\s"']*)""",
    re.IGNORECASE,
)
_BASE64_40 = r"[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"
# The key id, and the secret key with it when one follows (`AKIA…:secret`, `AKIA… secret`).
_AWS_ACCESS_KEY_ID_RE = re.compile(rf"\b(?:AKIA|ASIA)[A-Z0-9]{{16}}\b(?:[:\s,;]+{_BASE64_40})?")
# A secret access key after its name: `=`/`:` pairs are caught above, this also takes a
# space (`aws configure set aws_secret_access_key KEY`, `--aws-secret-access-key KEY`).
_AWS_SECRET_KEY_RE = re.compile(
    rf"""(?P<pre>(?<![\w.-])[\w.-]*secret[_-]?(?:access[_-]?)?key["']?[\s:=]+["']?)"""
    rf"(?P<val>{_BASE64_40})",
    re.IGNORECASE,
)
# Tokens whose prefix says what they are: Stripe-like live/test keys, `sk-…` API keys,
# GitHub and Slack tokens.
_PREFIXED_TOKEN_RE = re.compile(
    r"\b(?:[rs]k[-_](?:live|test)[-_][A-Za-z0-9]+"
    r"|sk-[A-Za-z0-9_-]{20,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,})"
)
_BEARER_RE = re.compile(r"\b(?P<pre>bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def is_sensitive_key(key: str) -> bool:
    """True when a variable or field named `key` should be treated as a secret."""
    return _SENSITIVE_KEY_RE.search(key) is not None


def _mask_value(match: re.Match[str]) -> str:
    value = match.group("val")
    # Keep the quotes so JSON stays JSON after redaction.
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return f"{match.group('pre')}{value[0]}{MASK}{value[0]}"
    return f"{match.group('pre')}{MASK}"


class Redactor:
    """Masks known secret values and secret-looking patterns in text."""

    def __init__(self, secret_values: Iterable[str] = ()) -> None:
        unique = {value for value in secret_values if len(value) >= MIN_SECRET_LENGTH}
        # Longest first: the regex alternation tries them in order, so the longest wins.
        self._values: tuple[str, ...] = tuple(sorted(unique, key=lambda v: (-len(v), v)))
        self._values_re = (
            re.compile("|".join(re.escape(value) for value in self._values))
            if self._values
            else None
        )

    @property
    def secret_values(self) -> tuple[str, ...]:
        return self._values

    def with_values(self, more: Iterable[str]) -> Redactor:
        """A new redactor that also masks `more`; this one is unchanged."""
        return Redactor((*self._values, *more))

    def redact(self, text: str) -> str:
        if not text:
            return text
        if self._values_re is not None:
            text = self._values_re.sub(MASK, text)
        text = _QUOTED_PAIR_RE.sub(_mask_value, text)
        text = _ASSIGNMENT_RE.sub(_mask_value, text)
        text = _COLON_PAIR_RE.sub(_mask_value, text)
        text = _FLAG_RE.sub(_mask_value, text)
        text = _AWS_SECRET_KEY_RE.sub(lambda m: f"{m.group('pre')}{MASK}", text)
        text = _AWS_ACCESS_KEY_ID_RE.sub(MASK, text)
        text = _PREFIXED_TOKEN_RE.sub(MASK, text)
        return _BEARER_RE.sub(lambda m: f"{m.group('pre')}{MASK}", text)

    def redact_value(self, value: Any) -> Any:
        """Redact every string inside `value` (dicts, lists and tuples are walked)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {
                key: MASK if _is_secret_field(key, item) else self.redact_value(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self.redact_value(item) for item in value)
        return value


def _is_secret_field(key: object, value: object) -> bool:
    # log.info("x", password="abc"): the key tells us more than the value does. Only
    # strings are masked whole; a nested mapping under "auth" is walked instead, and
    # auth_enabled=True stays readable.
    return isinstance(key, str) and isinstance(value, str) and is_sensitive_key(key)


def redacting_processor(
    redactor: Redactor,
) -> Callable[[WrappedLogger, str, EventDict], EventDict]:
    """A structlog processor that redacts every string value of the event dict.

    Put it after the processors that add values (format_exc_info included) and before
    the renderer, so rendered tracebacks are redacted too.
    """

    def processor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        redacted: EventDict = redactor.redact_value(event_dict)
        return redacted

    return processor
