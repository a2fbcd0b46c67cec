"""README's commands work as written.

Every line of README's ```sh blocks must match one of RULES: a rule either
runs the command here (the cheap ones, as a user would, from the repository's
root in a shell without the Makefile's environment: each block is one shell
session) or names the test that runs it (the expensive ones). A command that
no rule knows fails the test: documentation cannot drift from what is checked.

Substitutions, all in RULES: the example API URLs point at the real mock API,
`/var/lib/tickets/reports` and `reports` at a temporary directory;
`ansible-playbook` against the example fleet gets `--syntax-check` (its hosts
are examples); `molecule test` becomes `molecule syntax` and `molecule list`
(the Molecule scenarios themselves run in `make molecule`).

The `make TARGET` and `scripts/...` that README names in inline code must
exist too.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
TICKETS = f'"{VENV_PYTHON}" "{ROOT}/files/tickets.py"'
EXAMPLE_URLS = re.compile(r"https://helpdesk\.example\.com/api/tickets|https://\.\.\./tickets")

# (pattern of a README command, what to run instead: a shell line, or None
# with the reason it is not run here). The pattern must match the whole line.
RULES: list[tuple[str, str | None, str]] = [
    (r"make demo( SCHEDULER=cron)?", None, "tests/demo (make test-demo) runs it"),
    (r"make test", None, "CI runs it (.ci/run)"),
    (r"\. \.venv/bin/activate", "{cmd}", ""),
    (r"cd roles/tickets", "{cmd}", ""),
    (r"ansible-playbook -i inventory/hosts\.yml playbook\.yml.*", "{cmd} --syntax-check", ""),
    (r"tickets\.py .*", '(cd "$WORK" && {tickets})', ""),
    (r"curl -s \S+ \| tickets\.py .*", '(cd "$WORK" && {tickets})', ""),
    (
        r"python3 files/mock_api\.py --port 3000 --seed 42",
        # Port 0: another test (or helper) may hold 3000 here.
        'python3 files/mock_api.py --port 0 --seed 42 >"$WORK/mock.out" & pid=$!; '
        'for _ in $(seq 100); do grep -q listening "$WORK/mock.out" && break; sleep 0.1; done; '
        'curl -sf "$(grep -o "http://[^ ]*/tickets" "$WORK/mock.out")" >/dev/null; '
        "kill $pid; wait $pid || true",
        "",
    ),
    (r"molecule test( -s \w+)?", "{molecule} syntax{scenario} && {molecule} list{scenario}", ""),
    (r"journalctl .*", None, "Molecule verify (default, cron) reads the journal by priority"),
    (r"docker run \.\.\. tickets\.py .* --every .*", None, "tests/test_operations.py runs --every"),
]


def blocks() -> list[list[str]]:
    """The command lines of each ```sh block (comments stripped)."""
    text = README.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"^ *```sh\n(.*?)^ *```", text, re.M | re.S):
        lines = [re.sub(r"\s+#\s.*$", "", line).strip() for line in block.splitlines()]
        found.append([line for line in lines if line and not line.startswith("#")])
    return found


def rule_for(command: str) -> tuple[str | None, str]:
    for pattern, action, reason in RULES:
        if re.fullmatch(pattern, command):
            return action, reason
    pytest.fail(f"README shows a command that tests/test_readme.py does not know: {command!r}")


def translate(command: str) -> str:
    action, _ = rule_for(command)
    if action is None:
        return ":"
    tickets = command.replace("tickets.py", TICKETS)
    tickets = EXAMPLE_URLS.sub('"$MOCK_URL"', tickets)
    tickets = tickets.replace("/var/lib/tickets/reports", '"$WORK/reports"')
    scenario = re.search(r"( -s \w+)?$", command).group(1) or ""
    return action.format(cmd=command, tickets=tickets, molecule="molecule", scenario=scenario)


def test_every_readme_command_is_known() -> None:
    commands = [command for block in blocks() for command in block]
    assert len(commands) >= 10, commands  # the parser still finds README's blocks
    for command in commands:
        rule_for(command)


def user_environment() -> dict[str, str]:
    """A user's shell: no .venv on PATH, none of the Makefile's ANSIBLE_* variables."""
    venv_bin = str(ROOT / ".venv" / "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


@pytest.mark.parametrize("index", range(len(blocks())))
def test_readme_block_runs(index: int, shared_mock_api, tmp_path: Path) -> None:
    lines = [translate(command) for command in blocks()[index]]
    if set(lines) == {":"}:
        pytest.skip("every command of this block runs elsewhere")
    script = "\n".join(["set -euo pipefail", *lines])
    work = tmp_path / "work"
    work.mkdir()
    # `tickets.py --input tickets.json`: what the API served, saved.
    subprocess.run(
        ["curl", "-sf", "-o", str(work / "tickets.json"), shared_mock_api.tickets_url], check=True
    )
    env = user_environment() | {
        "MOCK_URL": shared_mock_api.tickets_url,
        "WORK": str(work),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),  # not the user's ~/.ansible
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (
        f"README block {index} failed ({result.returncode}):\n{script}\n"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )


def make_targets() -> set[str]:
    out = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def test_readme_inline_make_targets_and_scripts_exist() -> None:
    text = README.read_text(encoding="utf-8")
    spans = re.findall(r"`([^`\n]+)`", text)
    targets = make_targets()
    named = {m.group(1) for s in spans if (m := re.match(r"make ([a-z][a-z-]*)", s))}
    assert named, "README names no make target"
    assert named <= targets, f"README names make targets that do not exist: {named - targets}"
    scripts = {s.split()[0] for s in spans if s.startswith("scripts/")}
    assert scripts, "README names no script"
    for script in scripts:
        path = ROOT / script
        assert path.is_file() and os.access(path, os.X_OK), f"README names {script}: not there"
