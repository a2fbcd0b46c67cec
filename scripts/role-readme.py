#!/usr/bin/env python3
"""Write roles/tickets/README.md from the role's own files (`make docs`).

Every variable of meta/argument_specs.yml (entry point main) is listed with its
type, its default as defaults/main.yml sets it and its description; the
requirements come from meta/main.yml (platforms) and meta/runtime.yml at the
collection's root (requires_ansible).

    scripts/role-readme.py            write the README
    scripts/role-readme.py --check    exit 1 when the README differs from what
                                      would be written, or when argument_specs
                                      and defaults/main.yml disagree
    scripts/role-readme.py --role DIR another role directory (tests use a copy)

Standard library and PyYAML (which Ansible brings) only.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ROLE = ROOT / "roles" / "tickets"
FQCN = "helpdesk.tickets.tickets"
DEBIAN = {"bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14"}
# Ansible's documentation markup (ansible-doc renders it) as Markdown.
MARKUP = [
    (re.compile(r"L\(([^,()]+),\s*([^)]+)\)"), r"[\1](\2)"),
    (re.compile(r"U\(([^)]+)\)"), r"<\1>"),
    (re.compile(r"I\(([^)]+)\)"), r"*\1*"),
    (re.compile(r"B\(([^)]+)\)"), r"**\1**"),
    (re.compile(r"[CMOVEP]\(((?:[^()]|\([^()]*\))+)\)"), r"`\1`"),
    (re.compile(r"HORIZONTALLINE"), ""),
]
UNDEFINED = object()


def load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def options(role: Path) -> dict[str, dict[str, Any]]:
    specs = load(role / "meta" / "argument_specs.yml") or {}
    return specs["argument_specs"]["main"].get("options") or {}


def defaults(role: Path) -> dict[str, Any]:
    return load(role / "defaults" / "main.yml") or {}


def same(a: Any, b: Any) -> bool:
    """Equal as YAML values: true is not 1, 10 equals 10.0 (a float option)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def problems(role: Path) -> list[str]:
    """Where meta/argument_specs.yml and defaults/main.yml disagree.

    Every variable of defaults/main.yml is specified; every specified variable
    has a default there, except a required one (it can have none); when the
    spec gives a default, it is the same value."""
    specs, values = options(role), defaults(role)
    found = []
    for name in values:
        if name not in specs:
            found.append(f"{name}: in defaults/main.yml, not in meta/argument_specs.yml")
    for name, spec in specs.items():
        if name not in values:
            if not spec.get("required", False):
                found.append(f"{name}: in meta/argument_specs.yml, not in defaults/main.yml")
        elif "default" in spec and not same(spec["default"], values[name]):
            found.append(
                f"{name}: default {show(spec['default'])} in meta/argument_specs.yml, "
                f"{show(values[name])} in defaults/main.yml"
            )
    return found


def plain(text: str) -> bool:
    """Whether YAML reads the bare text back as this string ("0" it reads as 0)."""
    try:
        return text != "" and yaml.safe_load(text) == text
    except yaml.YAMLError:
        return False


def show(value: Any) -> str:
    """A value as YAML reads it: a string bare when unambiguous, else as JSON."""
    if value is UNDEFINED:
        return ""
    if isinstance(value, str) and plain(value):
        return f"`{value}`"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def markdown(text: str) -> str:
    text = " ".join(str(text).split())
    for pattern, replacement in MARKUP:
        text = pattern.sub(replacement, text)
    return text


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def description(spec: dict[str, Any]) -> str:
    parts = spec.get("description") or []
    if isinstance(parts, str):
        parts = [parts]
    text = "<br>".join(markdown(part) for part in parts)
    if spec.get("choices"):
        text += f"<br>Choices: {', '.join(show(c) for c in spec['choices'])}."
    if spec.get("required"):
        text += "<br>Required."
    return text


def kind(spec: dict[str, Any]) -> str:
    name = spec.get("type", "str")
    if spec.get("elements"):
        name += f" of {spec['elements']}"
    return name


def requirements(role: Path) -> list[str]:
    meta = load(role / "meta" / "main.yml") or {}
    platforms = (meta.get("galaxy_info") or {}).get("platforms") or []
    systems = []
    for platform in platforms:
        versions = platform.get("versions") or []
        if platform.get("name") == "Debian":
            numbers = [DEBIAN.get(v, v) for v in versions]
            systems.append(f"Debian {', '.join(numbers[:-1])} or {numbers[-1]}")
        else:
            systems.append(f"{platform.get('name')} {', '.join(map(str, versions))}")
    runtime_file = role.parent.parent / "meta" / "runtime.yml"
    runtime = load(runtime_file) if runtime_file.is_file() else {}
    ansible = (runtime or {}).get("requires_ansible", "")
    lines = []
    if systems:
        lines.append(f"- Hosts: {'; '.join(systems)}, with systemd (or cron) and Python 3.")
    if ansible:
        lines.append(f"- Controller: ansible-core {ansible.replace('>=', '≥ ')}.")
    lines.append("- No other collection or role.")
    return lines


def render(role: Path) -> str:
    specs, values = options(role), defaults(role)
    main = load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]
    intro = main.get("description") or []
    if isinstance(intro, str):
        intro = [intro]
    lines = [
        "<!-- Generated by scripts/role-readme.py from meta/argument_specs.yml and",
        "     defaults/main.yml: edit those, then run `make docs`. -->",
        f"# Role `{FQCN}`",
        "",
        markdown(main.get("short_description", "")) + ".",
        "",
        *(markdown(paragraph) for paragraph in intro),
        "",
        "## Requirements",
        "",
        *requirements(role),
        "",
        "## Role variables",
        "",
        "Specified in [`meta/argument_specs.yml`](meta/argument_specs.yml)"
        f" (`ansible-doc -t role {FQCN}`), defaults in",
        "[`defaults/main.yml`](defaults/main.yml).",
        "",
        "| Variable | Type | Default | Description |",
        "|---|---|---|---|",
    ]
    for name in specs:
        spec = specs[name] or {}
        default = values.get(name, spec.get("default", UNDEFINED))
        row = [f"`{name}`", kind(spec), show(default), description(spec)]
        lines.append("| " + " | ".join(cell(text) for text in row) + " |")
    lines += [
        "",
        "## Example playbook",
        "",
        "```yaml",
        "- name: Deploy the tickets report",
        "  hosts: tickets",
        "  become: true",
        "  vars:",
        "    tickets_api_url: https://helpdesk.example.com/api/tickets",
        f"  roles: [{FQCN}]",
        "```",
        "",
        "Or the collection's playbook: `ansible-playbook -i INVENTORY helpdesk.tickets.deploy`.",
        "",
        "## More",
        "",
        "The role in depth (scheduler switch, uninstall, proxies and CAs, offline installs):",
        "[docs/role.md](../../docs/role.md).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when README.md is stale")
    parser.add_argument("--role", type=Path, default=ROLE, help="role directory")
    args = parser.parse_args(argv)
    readme = args.role / "README.md"
    found = problems(args.role)
    for problem in found:
        print(f"role-readme: {problem}", file=sys.stderr)
    text = render(args.role)
    if not args.check:
        readme.write_text(text, encoding="utf-8")
        print(f"role-readme: wrote {readme}")
        return 1 if found else 0
    current = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    if current != text:
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"{readme} (now)",
            f"{readme} (generated)",
        )
        sys.stderr.writelines(diff)
        print(f"role-readme: {readme} is stale: run 'make docs'", file=sys.stderr)
        return 1
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
