"""A small Dockerfile reader: enough to replay the image's steps outside Docker.

It understands line continuations, comments, `FROM ... AS name` stages and the exec
(JSON) form of CMD / HEALTHCHECK, which is all the project's Dockerfile uses.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case, e.g. "COPY"
    args: str  # the rest of the logical line, continuations joined


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]


def logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comments inside a continued instruction are dropped by Docker too
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        lines.append(current)
        current = ""
    if current:
        lines.append(current)
    return lines


def parse(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line in logical_lines(text):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = args.strip()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append(Instruction(keyword, args))
    return stages


def load() -> list[Stage]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


def final_stage() -> Stage:
    return load()[-1]


def env(stage: Stage) -> dict[str, str]:
    """ENV key=value pairs of a stage (quotes removed; `$VAR` left for the caller)."""
    values: dict[str, str] = {}
    for instruction in stage.all("ENV"):
        for word in shlex.split(instruction.args):
            key, sep, value = word.partition("=")
            assert sep, f"use ENV key=value, got {word!r}"
            values[key] = value
    return values


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form CMD / ENTRYPOINT / HEALTHCHECK CMD."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def healthcheck(stage: Stage) -> tuple[dict[str, str], list[str]]:
    """(options, command) of the stage's HEALTHCHECK."""
    args = stage.last("HEALTHCHECK").args
    match = re.fullmatch(r"((?:--[a-z-]+=\S+\s+)*)CMD\s+(\[.*\])", args)
    assert match, f"HEALTHCHECK is not `[--opt=v ...] CMD [json]`: {args}"
    options = dict(opt[2:].split("=", 1) for opt in match.group(1).split())
    return options, exec_form(match.group(2))


@dataclass(frozen=True)
class Copy:
    sources: list[str]
    dest: str
    from_stage: str | None


def parse_copy(args: str) -> Copy:
    words = shlex.split(args)
    flags = {w.split("=", 1)[0]: w.split("=", 1)[1] for w in words if w.startswith("--")}
    paths = [w for w in words if not w.startswith("--")]
    return Copy(paths[:-1], paths[-1], flags.get("--from"))


def copies(stage: Stage) -> list[Copy]:
    return [parse_copy(i.args) for i in stage.all("COPY")]
