#!/usr/bin/env python3
"""Two rules for the GitHub workflows (issue 19, finding 1), checked by `make lint`:

1. every `uses:` of a remote action names a full 40-hex commit SHA (a tag or branch can be moved
   to other code after review);
2. no job that runs build code (npm, npx, cargo, make, tauri, a script of ours) may write: the
   workflow's default permissions grant no write, and a job holding a `write` permission runs
   only `uses:` steps and shell steps without build tools.

Reads the YAML with a small line parser (no PyYAML on a fresh machine): workflows here are plain
block YAML. Exits 1 with one line per finding.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = re.compile(r"\b(npm|npx|cargo|make|tauri|rustc|node|scripts/|\.ci/)")
SHA = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")


def jobs(lines):
    """(job name, its lines) for each job under `jobs:`."""
    out, name, body, inside = [], None, [], False
    for line in lines:
        if re.match(r"^jobs:\s*$", line):
            inside = True
            continue
        if inside and re.match(r"^\S", line):
            inside = False
        if not inside:
            continue
        m = re.match(r"^  ([A-Za-z0-9_-]+):\s*$", line)
        if m:
            if name:
                out.append((name, body))
            name, body = m.group(1), []
        elif name:
            body.append(line)
    if name:
        out.append((name, body))
    return out


def run_blocks(body):
    """The text of each `run:` of a job (the key's line and the lines indented under it)."""
    blocks, current, indent = [], None, 0
    for line in body:
        m = re.match(r"^(\s*)(?:-\s+)?run:(.*)$", line)
        if m:
            if current is not None:
                blocks.append(current)
            current, indent = m.group(2), len(m.group(1))
            continue
        if current is not None:
            if line.strip() and len(line) - len(line.lstrip()) > indent:
                current += "\n" + line
            elif line.strip():
                blocks.append(current)
                current = None
    if current is not None:
        blocks.append(current)
    return blocks


def top_permissions(lines):
    """The text of the workflow-level `permissions:` (empty when absent)."""
    for i, line in enumerate(lines):
        if line.startswith("permissions:"):
            rest = line[len("permissions:"):].strip()
            block = [rest] if rest else []
            for nxt in lines[i + 1:]:
                if nxt.startswith("  "):
                    block.append(nxt.strip())
                else:
                    break
            return " ".join(block)
    return ""


def check(path):
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for n, line in enumerate(lines, 1):
        m = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)", line)
        if not m:
            continue
        ref = m.group(1).strip("'\"")
        if ref.startswith("./") or ref.startswith("docker://"):
            continue
        if not SHA.match(ref):
            found.append(f"{path.name}:{n}: `{ref}` is not pinned by a 40-hex commit SHA")
    top = top_permissions(lines)
    if "write" in top or top in ("write-all",) or (top == "" and "permissions" not in text):
        found.append(f"{path.name}: the workflow's default permissions must grant no write (got {top or 'the repository default'!r})")
    for name, body in jobs(lines):
        writes = any(re.search(r":\s*write\b", l) or "write-all" in l for l in body)
        if not writes:
            continue
        for command in run_blocks(body):
            if BUILD.search(command):
                found.append(f"{path.name}: job `{name}` holds a write permission and runs build code: {command.strip()[:80]}")
                break
    return found


def main():
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    if not files:
        print("no workflows found", file=sys.stderr)
        return 1
    problems = [p for f in files for p in check(f)]
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
