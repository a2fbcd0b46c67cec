"""roles/tickets/README.md is generated from the role's files and current, and
meta/argument_specs.yml agrees with defaults/main.yml (scripts/role-readme.py).

The checks themselves are shown to fail on a copy of the role: a variable in
defaults only, in argument_specs only, a default that differs, a stale README.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ROLE = ROOT / "roles" / "tickets"
SCRIPT = ROOT / "scripts" / "role-readme.py"
ROW = re.compile(r"^\| `(tickets_\w+)` \|", re.MULTILINE)


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("role_readme", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


role_readme = load_script()


def generate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def role(tmp_path: Path) -> Path:
    """A copy of the role (no Molecule) in a collection tree, README current."""
    copy = tmp_path / "roles" / "tickets"
    shutil.copytree(ROLE, copy, ignore=shutil.ignore_patterns("molecule"))
    (tmp_path / "meta").mkdir()
    shutil.copy(ROOT / "meta" / "runtime.yml", tmp_path / "meta" / "runtime.yml")
    assert generate("--role", copy).returncode == 0
    return copy


def edit_yaml(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def spec_options(data: dict) -> dict:  # type: ignore[type-arg]
    return data["argument_specs"]["main"]["options"]


def test_argument_specs_and_defaults_agree() -> None:
    assert role_readme.problems(ROLE) == []


def test_readme_is_current() -> None:
    result = generate("--check")
    assert result.returncode == 0, result.stderr


def test_readme_lists_every_variable_once() -> None:
    readme = (ROLE / "README.md").read_text(encoding="utf-8")
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    assert ROW.findall(readme) == list(spec_options(specs))
    assert "roles: [helpdesk.tickets.tickets]" in readme
    assert "(../../docs/role.md)" in readme


def test_a_variable_in_defaults_only_fails(role: Path) -> None:
    with (role / "defaults" / "main.yml").open("a", encoding="utf-8") as defaults:
        defaults.write("tickets_only_in_defaults: 1\n")
    assert role_readme.problems(role) == [
        "tickets_only_in_defaults: in defaults/main.yml, not in meta/argument_specs.yml"
    ]
    result = generate("--check", "--role", role)
    assert result.returncode == 1
    assert "tickets_only_in_defaults: in defaults/main.yml" in result.stderr


def test_a_variable_in_argument_specs_only_fails(role: Path) -> None:
    edit_yaml(
        role / "meta" / "argument_specs.yml",
        lambda d: spec_options(d).update(tickets_only_in_specs={"type": "str", "description": "x"}),
    )
    assert role_readme.problems(role) == [
        "tickets_only_in_specs: in meta/argument_specs.yml, not in defaults/main.yml"
    ]


def test_a_required_variable_needs_no_default(role: Path) -> None:
    edit_yaml(
        role / "meta" / "argument_specs.yml",
        lambda d: spec_options(d).update(tickets_needed={"type": "str", "required": True}),
    )
    assert role_readme.problems(role) == []


def test_a_default_that_differs_fails(role: Path) -> None:
    edit_yaml(
        role / "meta" / "argument_specs.yml",
        lambda d: spec_options(d)["tickets_scheduler"].update(default="cron"),
    )
    assert role_readme.problems(role) == [
        "tickets_scheduler: default `cron` in meta/argument_specs.yml,"
        " `systemd` in defaults/main.yml"
    ]


def test_false_is_not_zero(role: Path) -> None:
    edit_yaml(role / "defaults" / "main.yml", lambda d: d.update(tickets_use_uuid=0))
    assert role_readme.problems(role) == [
        "tickets_use_uuid: default `false` in meta/argument_specs.yml, `0` in defaults/main.yml"
    ]


def test_a_stale_readme_fails_until_regenerated(role: Path) -> None:
    edit_yaml(
        role / "meta" / "argument_specs.yml",
        lambda d: spec_options(d)["tickets_lang"].update(description="A new description."),
    )
    result = generate("--check", "--role", role)
    assert result.returncode == 1
    assert "README.md is stale: run 'make docs'" in result.stderr
    assert "+| `tickets_lang` | str | `ru` | A new description." in result.stderr
    assert generate("--role", role).returncode == 0
    assert generate("--check", "--role", role).returncode == 0
