"""The release file: several services deployed as one release (`bluegreen release`).

```toml
name = "shop"                       # optional: the file's name without .toml
[strategy]                          # optional: the stages every service moves through
type = "linear"                     #   together (replaces each service's own strategy)
step = 25
bake = "5m"
[state]                             # optional: where the release's record is kept
backend = "file"                    #   (beside this file), or "s3://bucket/prefix"

[[services]]
name = "api"                        # how the release names it (status, logs, `after`)
config = "api/bluegreen.toml"       # its configuration, relative to this file
images = { app = "registry/api:2.0" }   # or task_definition = "FILE|ARN"

[[services]]
name = "web"
config = "web/bluegreen.toml"
images = { web = "registry/web:2.0" }
after = ["api"]                     # bring up web's green once api's green is healthy
shift_after = ["api"]               # shift web's traffic once api is at 100 %
```

Rules: unknown keys are errors; names are unique; `after` and `shift_after` name services of
this release and form no cycle (each is checked on its own: one that waits on itself would
wait for ever); each service is given exactly one of `images` or `task_definition` (the
command line's `--image SERVICE:CONTAINER=URI` fills or replaces them). Every error is a
ConfigError (exit 2) naming the file and the key, before any AWS call.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from bluegreen.config.loading import describe_invalid, read_toml
from bluegreen.config.schema import StateConfig, StrategyConfig
from bluegreen.errors import ConfigError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _plain(value: str) -> str:
    if not NAME.fullmatch(value):
        raise ValueError("letters, digits, '.', '_' and '-', at most 63, starting plain")
    return value


PlainName = Annotated[str, AfterValidator(_plain)]  # a release's or a service's name


class ServiceEntry(_Strict):
    name: PlainName
    config: str
    images: dict[str, str] = Field(default_factory=dict)
    task_definition: str | None = None
    after: list[str] = Field(default_factory=list)
    shift_after: list[str] = Field(default_factory=list)


class ReleaseFile(_Strict):
    name: PlainName | None = None
    strategy: dict[str, Any] | None = None  # validated as each service's [strategy] is
    state: StateConfig = Field(default_factory=StateConfig)
    services: list[ServiceEntry] = Field(min_length=1)
    source: Path = Path("release.toml")

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    @property
    def release_name(self) -> str:
        return self.name or re.sub(r"[^A-Za-z0-9_.-]", "-", self.source.stem) or "release"

    def config_path(self, entry: ServiceEntry) -> Path:
        return self.base_dir / entry.config


def load_release_file(
    path: str | Path, images: dict[str, dict[str, str]] | None = None
) -> ReleaseFile:
    """The release file at `path`, with `images` (service → container → URI, from the
    command line) laid over each service's own."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"{path}: no such release file",
            hint="pass the release file's path: `bluegreen release release.toml`",
        )
    data = read_toml(path)
    if "source" in data:
        raise ConfigError(f"{path}: source: unknown key")
    try:
        release = ReleaseFile.model_validate({**data, "source": path})
    except ValidationError as exc:
        raise ConfigError(describe_invalid(path, exc, data, ReleaseFile)) from None
    if release.strategy is not None:
        try:
            StrategyConfig.model_validate(release.strategy)
        except ValidationError as exc:
            raise ConfigError(
                describe_invalid(path, exc, release.strategy, StrategyConfig).replace(
                    f"{path}: ", f"{path}: strategy."
                )
            ) from None
    release = _with_images(release, images or {})
    check_release(release)
    return release


def _with_images(release: ReleaseFile, images: dict[str, dict[str, str]]) -> ReleaseFile:
    names = {s.name for s in release.services}
    unknown = sorted(set(images) - names)
    if unknown:
        raise ConfigError(
            f"--image names {', '.join(unknown)}: not a service of {release.source}",
            hint=f"the services are: {', '.join(sorted(names))} (--image SERVICE:CONTAINER=URI)",
        )
    services = [
        s.model_copy(update={"images": {**s.images, **images[s.name]}}) if s.name in images else s
        for s in release.services
    ]
    return release.model_copy(update={"services": services})


def check_release(release: ReleaseFile) -> None:
    """Names unique, dependencies known and acyclic, one version per service."""
    where = release.source
    names = [s.name for s in release.services]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{where}: services: {', '.join(twice)} listed twice")
    for entry in release.services:
        _check_version(where, entry)
        for key in ("after", "shift_after"):
            unknown = [n for n in getattr(entry, key) if n not in names]
            if unknown:
                raise ConfigError(
                    f"{where}: services.{entry.name}.{key}: {', '.join(unknown)} is not a "
                    "service of this release",
                    hint=f"the services are: {', '.join(names)}",
                )
    for key in ("after", "shift_after"):
        cycle = find_cycle({s.name: getattr(s, key) for s in release.services})
        if cycle:
            raise ConfigError(
                f"{where}: {key} goes round in a circle: {' → '.join(cycle)}",
                hint=f"a service cannot wait for itself: remove one of these `{key}` entries",
            )


def _check_version(where: Path, entry: ServiceEntry) -> None:
    if bool(entry.images) == bool(entry.task_definition):
        raise ConfigError(
            f"{where}: services.{entry.name}: give exactly one of images or task_definition",
            hint=f'e.g. images = {{ app = "registry/{entry.name}:2.0" }}, or on the command '
            f"line --image {entry.name}:CONTAINER=URI",
        )


def find_cycle(waits_for: dict[str, list[str]]) -> list[str] | None:
    """A cycle in `waits_for` as the path that closes it (a → b → a), or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for other in waits_for.get(name, []):
            found = visit(other, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for name in waits_for:
        found = visit(name, [])
        if found:
            return found
    return None


def parse_release_images(values: list[str]) -> dict[str, dict[str, str]]:
    """`--image SERVICE:CONTAINER=URI` → {service: {container: uri}}."""
    images: dict[str, dict[str, str]] = {}
    for value in values:
        target, sep, uri = value.partition("=")
        service, colon, container = target.partition(":")
        if not (sep and colon and service and container and uri):
            raise ConfigError(
                f"--image {value!r}: expected SERVICE:CONTAINER=URI",
                hint="e.g. --image api:app=registry/api:2.0",
            )
        images.setdefault(service, {})[container] = uri
    return images
