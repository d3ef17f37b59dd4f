"""Redactor: known values, secret-looking assignments, AWS keys, bearer tokens."""

from __future__ import annotations

import json

import pytest
import structlog
from structlog.testing import capture_logs

from bluegreen.redact import MASK, Redactor, is_sensitive_key, redacting_processor


def test_known_values_are_masked() -> None:
    redactor = Redactor(["db-password-value", "other-secret"])
    assert redactor.redact("db-password-value then other-secret") == "*** then ***"


def test_longest_value_wins() -> None:
    # "abcd" is inside "abcdefgh": masking the short one first would leave "***efgh".
    redactor = Redactor(["abcd", "abcdefgh"])
    assert redactor.redact("x abcdefgh y abcd") == "x *** y ***"


def test_short_values_are_ignored() -> None:
    redactor = Redactor(["abc", "", "yes"])
    assert redactor.secret_values == ()
    assert redactor.redact("abc yes") == "abc yes"


def test_values_are_matched_literally() -> None:
    assert Redactor(["a.b*c(d"]).redact("axb*c(d a.b*c(d") == "axb*c(d ***"


def test_with_values_returns_a_new_redactor() -> None:
    base = Redactor(["first-secret"])
    more = base.with_values(["second-secret"])
    assert base.redact("second-secret") == "second-secret"
    assert more.redact("first-secret second-secret") == "*** ***"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PASSWORD=abc", "PASSWORD=***"),
        ("db_passwd=abc other=1", "db_passwd=*** other=1"),
        ("export GITHUB_TOKEN='a b c' rest", "export GITHUB_TOKEN='***' rest"),
        ('MY_SECRET="x y"', 'MY_SECRET="***"'),
        ("https://x/cb?access_token=abc&page=2", "https://x/cb?access_token=***&page=2"),
        ("--api-key=zzz --verbose", "--api-key=*** --verbose"),
        ("mysql --password hunter2 -h db", "mysql --password *** -h db"),
        ("tool --db-token 'a b' --yes", "tool --db-token '***' --yes"),
        ("tool --auth-token --verbose", "tool --auth-token --verbose"),
        ('echo "AWS_SECRET_ACCESS_KEY=abc"', 'echo "AWS_SECRET_ACCESS_KEY=***"'),
        ('{"password": "p\\"w", "user": "bob"}', '{"password": "***", "user": "bob"}'),
        ('{"ApiKey": 12345, "n": 1}', '{"ApiKey": ***, "n": 1}'),
        ("{'client_secret': 'v'}", "{'client_secret': '***'}"),
        ("private_key: -----BEGIN KEY-----", "private_key: ***"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: ***"),
        ("X-Api-Key: k1\nnext line", "X-Api-Key: ***\nnext line"),
        ("credentials: from env", "credentials: ***"),
        ("key AKIAIOSFODNN7EXAMPLE used", "key *** used"),
        ("ASIAY34FZKBOKMUTVV7A", "***"),
        ("curl -H 'Bearer eyJhbGciOi.J9.x-y_z'", "curl -H 'Bearer ***'"),
        ("bearer abc123", "bearer ***"),
    ],
)
def test_patterns(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "deploying web:1.4.2 to green (weight 10)",
        "status: healthy",
        "target group web-green: 3 healthy",
        "AKIA-not-a-key",
        "user=bob mode=canary",
        "authentication failed for bob",  # "auth" in prose, not a key
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert Redactor().redact(text) == text


def test_redaction_is_idempotent() -> None:
    redactor = Redactor(["s3cr3t-value"])
    once = redactor.redact('PASSWORD=abc {"token": "t"} s3cr3t-value')
    assert redactor.redact(once) == once


def test_json_stays_json() -> None:
    document = json.dumps({"password": 'quo"te', "nested": {"api_key": "k"}, "ok": 1})
    assert json.loads(Redactor().redact(document)) == {
        "password": MASK,
        "nested": {"api_key": MASK},
        "ok": 1,
    }


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("DB_PASSWORD", True),
        ("X-Api-Key", True),
        ("aws_access_key_id", True),
        ("Authorization", True),
        ("SERVICE", False),
        ("green_weight", False),
    ],
)
def test_is_sensitive_key(key: str, sensitive: bool) -> None:
    assert is_sensitive_key(key) is sensitive


def test_processor_redacts_every_string_value() -> None:
    processor = redacting_processor(Redactor(["known-secret"]))
    event = {
        "event": "hook said PASSWORD=abc",
        "password": "plain",
        "auth_enabled": True,
        "count": 3,
        "nested": {"lines": ["known-secret", "fine"], "token": "t"},
    }
    assert processor(None, "info", event) == {
        "event": "hook said PASSWORD=***",
        "password": MASK,
        "auth_enabled": True,
        "count": 3,
        "nested": {"lines": [MASK, "fine"], "token": MASK},
    }


def test_processor_in_a_structlog_chain() -> None:
    processor = redacting_processor(Redactor(["known-secret"]))
    with capture_logs(processors=[processor]) as logs:
        structlog.get_logger().info("connect", dsn="postgres://u:known-secret@db")
    assert logs == [{"event": "connect", "dsn": "postgres://u:***@db", "log_level": "info"}]
