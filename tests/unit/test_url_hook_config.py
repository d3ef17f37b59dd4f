"""The keys of a url hook in bluegreen.toml: what is refused (naming the key and the fix),
what is read from the environment, and what is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config import GOOD

from bluegreen.config import load_config, parse_config
from bluegreen.deployer import hook_specs
from bluegreen.errors import ConfigError

HOOK = '[[hooks]]\nevent = "post_shift"\nurl = "https://hooks.example.com/deploy?key=q5w6e7"\n'
SECRET = "whsec-9c1d2e3f"
TOKEN = "tok-8a7b6c5d"


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> object:
    path = tmp_path / "bluegreen.toml"
    path.write_text(GOOD + text)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (environ or {}).items():
            patch.setenv(name, value)
        return load_config(path)


def error_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, environ)
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_a_url_hook_with_every_key(tmp_path: Path) -> None:
    text = HOOK + (
        'headers = { Authorization = "Bearer tok-8a7b6c5d", X-Tenant = "tenant-4471aa" }\n'
        'secret_env = "BG_TEST_WEBHOOK_SECRET"\nretries = 2\ntimeout = "20s"\n'
    )
    config = load(tmp_path, text, {"BG_TEST_WEBHOOK_SECRET": SECRET})

    (hook,) = config.hooks  # type: ignore[attr-defined]
    assert hook.signing_secret == SECRET and hook.retries == 2 and hook.timeout == 20
    assert hook.display_name == "POST https://hooks.example.com/deploy?***"
    masked = config.redactor.redact(f"{SECRET} {TOKEN} tenant-4471aa")  # type: ignore[attr-defined]
    assert masked == "*** *** ***"
    assert SECRET not in repr(config) and SECRET not in str(config.model_dump())  # type: ignore[attr-defined]
    (spec,) = hook_specs(config)  # type: ignore[arg-type]
    assert (spec.url, spec.signing_secret, spec.retries) == (hook.url, SECRET, 2)
    assert dict(spec.headers) == {
        "Authorization": f"Bearer {TOKEN}",
        "X-Tenant": "tenant-4471aa",
    }


def test_no_retries_unless_asked(tmp_path: Path) -> None:
    (hook,) = load(tmp_path, HOOK).hooks  # type: ignore[attr-defined]
    assert hook.retries == 0 and hook.signing_secret is None and hook.headers == {}


def test_a_missing_secret_variable_says_which_and_how_to_fix_it(tmp_path: Path) -> None:
    text = HOOK + 'secret_env = "BG_TEST_UNSET_SECRET"\n'
    message = error_of(tmp_path, text)
    assert "bluegreen.toml: hooks.0.secret_env: the environment variable BG_TEST_UNSET_SECRET" in (
        message
    )
    assert "is not set" in message
    assert "export BG_TEST_UNSET_SECRET=" in message and "remove secret_env" in message


def test_an_empty_secret_variable_is_missing_too(tmp_path: Path) -> None:
    text = HOOK + 'secret_env = "BG_TEST_EMPTY_SECRET"\n'
    assert "BG_TEST_EMPTY_SECRET is not set (or is empty)" in error_of(
        tmp_path, text, {"BG_TEST_EMPTY_SECRET": ""}
    )


def test_the_environment_can_be_handed_in() -> None:
    data = {
        "service": {"cluster": "c", "name": "web"},
        "target_groups": {"blue": "b", "green": "g"},
        "listeners": [{"arn": "arn:aws:x"}],
        "hooks": [{"event": "post_shift", "url": "https://h.example/x", "secret_env": "S"}],
    }
    assert parse_config(data, environ={"S": SECRET}).hooks[0].signing_secret == SECRET


@pytest.mark.parametrize(
    ("hook", "key", "says"),
    [
        ('url = "ftp://h.example/x"', "hooks.0.url", "http:// or https:// (got ftp:)"),
        ('url = "file:///etc/passwd"', "hooks.0.url", "(got file:)"),
        ('url = "hooks.example.com/x"', "hooks.0.url", "(got no scheme)"),
        ('url = "https:///x"', "hooks.0.url", "needs a host"),
        ('url = "https://u:p@h.example/x"', "hooks.0.url", "send them in a header"),
        ('url = "https://h.example:port/x"', "hooks.0.url", "not a valid URL"),
        ('url = "https://h.example/a b"', "hooks.0.url", "without spaces"),
        ('url = "https://h.example/x"\nretries = 11', "hooks.0.retries", "less than or equal"),
        ('url = "https://h.example/x"\nretries = -1', "hooks.0.retries", "greater than"),
        ('url = "https://h.example/x"\nsecret_env = "1X"', "hooks.0.secret_env", "letters"),
        ('url = "https://h.example/x"\nheaders = { "A B" = "x" }', "hooks.0.headers", "names"),
        ('url = "https://h.example/x"\nheaders = { A = "x\\ny" }', "hooks.0.headers.A", "CR"),
        (
            'url = "https://h.example/x"\nheaders = { X-Bluegreen-Signature = "x" }',
            "hooks.0.headers",
            "set by bluegreen",
        ),
        ('url = "https://h.example/x"\nretry = 2', "hooks.0.retry", "unknown key"),
        ('url = "https://h.example/x"\ncommand = ["x"]', "hooks.0", "exactly one of"),
        ('command = ["x"]\nretries = 2', "hooks.0", "retries is only for url hooks"),
        ('python = "m:f"\nheaders = {A = "b"}', "hooks.0", "headers is only for url hooks"),
    ],
)
def test_url_hooks_that_could_not_run_are_refused(
    tmp_path: Path, hook: str, key: str, says: str
) -> None:
    message = error_of(tmp_path, f'[[hooks]]\nevent = "post_shift"\n{hook}\n')
    assert f"bluegreen.toml: {key}: " in message and says in message
