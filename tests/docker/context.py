"""What `docker build .` would send as its context, computed from `.dockerignore`.

The matching follows Docker's rules (moby/patternmatcher): patterns are cleaned
paths relative to the context root, `*` and `?` stay within one path segment, `**`
spans any number of segments, a path is also matched through any of its parent
directories, `!` re-includes, and the last matching pattern wins.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.docker.dockerfile import REPO

DOCKERIGNORE = REPO / ".dockerignore"


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool  # True for a `!pattern` (re-include)
    regex: re.Pattern[str]

    def match(self, path: str) -> bool:
        if self.regex.fullmatch(path):
            return True
        parts = path.split("/")
        return any(self.regex.fullmatch("/".join(parts[: i + 1])) for i in range(len(parts) - 1))


def _to_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                if pattern[i + 1 : i + 2] == "/":
                    i += 1
                    out += "(?:.*/)?"  # `**/` is zero or more whole directories
                else:
                    out += ".*"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = pattern.find("]", i + 1)
            assert end > i, f"unclosed [ in {pattern!r}"
            body = pattern[i + 1 : end]
            out += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
            i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out)


def load_patterns(text: str | None = None) -> list[Pattern]:
    if text is None:
        text = DOCKERIGNORE.read_text(encoding="utf-8")
    patterns: list[Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        cleaned = posixpath.normpath(line).lstrip("/")
        patterns.append(Pattern(cleaned, exclusion, _to_regex(cleaned)))
    return patterns


def is_ignored(path: str, patterns: list[Pattern]) -> bool:
    ignored = False
    for pattern in patterns:
        if pattern.match(path):
            ignored = not pattern.exclusion
    return ignored


def _may_reinclude(directory: str, patterns: list[Pattern]) -> bool:
    """Whether some `!` pattern could re-include a file below an ignored directory
    (so the walk has to look inside)."""
    for pattern in patterns:
        if not pattern.exclusion:
            continue
        literal = re.split(r"[*?\[]", pattern.text, maxsplit=1)[0]
        if literal.startswith(directory + "/") or (directory + "/").startswith(literal):
            return True
    return False


def context_files(root: Path = REPO, patterns: list[Pattern] | None = None) -> list[str]:
    """Relative POSIX paths of every file that would be sent to the builder."""
    if patterns is None:
        patterns = load_patterns()
    files: list[str] = []
    for current, dirs, names in os.walk(root):
        rel_dir = Path(current).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        kept = []
        for d in sorted(dirs):
            rel = rel_dir + d
            if not is_ignored(rel, patterns) or _may_reinclude(rel, patterns):
                kept.append(d)
        dirs[:] = kept
        for name in sorted(names):
            rel = rel_dir + name
            if not is_ignored(rel, patterns):
                files.append(rel)
    return files


def copy_context(dest: Path, root: Path = REPO) -> list[str]:
    """Materialise the build context in `dest` (what the builder would see)."""
    files = context_files(root)
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    return files
