"""README's commands work as written, and the docs' links lead somewhere.

Every line of README's ```sh blocks must match one of RULES: a rule either
runs the command here (the cheap ones, as a user would, from the repository's
root in a shell without the Makefile's environment: each block is one shell
session) or names the test that runs it (the expensive ones). A command that
no rule knows fails the test: documentation cannot drift from what is checked.

Substitutions, all in RULES: the example API URLs point at the real mock API,
`/var/lib/tickets/reports` and `reports` at a temporary directory; the mock
API README starts on port 3000 runs on a free port; `ansible-playbook`
against the example fleet gets `--syntax-check` (its hosts are examples).

Besides: the sample report README shows is what the tool prints against the
mock API (`--seed 42`), the playbook README shows passes `--syntax-check`
with the collection's role, the `make TARGET` and `scripts/...` that README
names in inline code exist, and every relative link of README.md, docs/*.md
and the role's README points at a file (and heading) that exists.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
TICKETS = f'"{VENV_PYTHON}" "{ROOT}/files/tickets.py"'
EXAMPLE_URLS = re.compile(
    r"https://helpdesk\.example\.com/api/tickets|http://127\.0\.0\.1:3000/tickets"
)
# The report tool as README runs it: the installed command, or the checkout's script.
PROGRAM = re.compile(r"(?<![\w/.-])(?:\.venv/bin/python files/tickets\.py|tickets(?:\.py)?)(?= |$)")
REPORT_NAME = re.compile(r"\d{2}-\d{2}-\d{2} \d{2}-\d{2}-\d{2}(-\d+)?\.json")

# (pattern of a README command, what to run instead: a shell line, or None
# with the reason it is not run here). The pattern must match the whole line.
RULES: list[tuple[str, str | None, str]] = [
    (r"make demo( SCHEDULER=cron)?|make demo-clean", None, "tests/demo (make test-demo) runs it"),
    (r"make test", None, "CI runs it (.ci/run)"),
    (r"make check", None, "it runs this test (make pytest)"),
    (r"make venv", None, "the Makefile's targets run it first (make check, make test)"),
    (r"pipx install \.", None, "tests/package (make test-package) runs it"),
    (r"\. \.venv/bin/activate", "{cmd}", ""),
    (r"ansible-playbook -i inventory/hosts\.yml playbook\.yml.*", "{cmd} --syntax-check", ""),
    (
        r"ansible-galaxy collection install -r requirements\.yml",
        None,
        "tests/collection (make test-collection) installs from git with a requirements.yml",
    ),
    (
        r"ansible-playbook -i inventory\.yml site\.yml",
        None,
        "test_readme_playbook_passes_syntax_check runs it with --syntax-check",
    ),
    (
        r"ansible-playbook -i inventory\.yml helpdesk\.tickets\.deploy",
        None,
        "tests/collection (make test-collection) runs it",
    ),
    (r"(\.venv/bin/python files/)?tickets(\.py)? .*", '(cd "$WORK" && {tickets})', ""),
    (
        r"python3 files/mock_api\.py --port 3000 --seed 42 &",
        # Port 0: another test (or helper) may hold 3000 here. MOCK_URL is
        # then this mock, for the commands after it.
        'python3 files/mock_api.py --port 0 --seed 42 >"$WORK/mock.out" & mock=$!; '
        "trap 'kill $mock' EXIT; "
        'for _ in $(seq 100); do grep -q listening "$WORK/mock.out" && break; sleep 0.1; done; '
        'MOCK_URL=$(grep -o "http://[^ ]*/tickets" "$WORK/mock.out")',
        "",
    ),
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
    tickets = PROGRAM.sub(lambda _: TICKETS, command)
    tickets = EXAMPLE_URLS.sub('"$MOCK_URL"', tickets)
    tickets = tickets.replace("/var/lib/tickets/reports", '"$WORK/reports"')
    return action.format(cmd=command, tickets=tickets)


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


def fenced(text: str, lang: str) -> list[str]:
    """The contents of the ```LANG blocks of a Markdown text, in order."""
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, re.M | re.S)


LOG_EN = ["--log", "reports", "--lang", "en"]


def test_readme_sample_report_is_the_tools_output(mock_api: Any, tmp_path: Path) -> None:
    """The console report and the JSON README shows are what the tool prints
    and saves against `mock_api.py --seed 42`, the report's name aside."""
    text = README.read_text(encoding="utf-8")
    sample = re.search(r"^```sh\n.*?^```\n\n```\n(.*?)^```$", text, re.M | re.S)
    assert sample, "README shows no sample report after its first command block"
    api = mock_api("--seed", "42")
    env = user_environment() | {"NO_COLOR": "1"}
    env.pop("TICKETS_LANG", None)
    result = subprocess.run(
        [VENV_PYTHON, ROOT / "files" / "tickets.py", "--api", api.tickets_url, *LOG_EN],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert REPORT_NAME.sub("NAME", sample.group(1)) == REPORT_NAME.sub("NAME", result.stdout)

    (path,) = (tmp_path / "reports").glob("*.json")
    report = json.loads(path.read_text(encoding="utf-8"))
    first = {"open": {"tickets": report["open"]["tickets"][:1], "count": report["open"]["count"]}}
    shortened = json.dumps(first | {"by_category": report["by_category"]}, indent=4)
    cut = " " * 12 + "}\n" + " " * 8 + "],"
    shortened = shortened.replace(cut, cut.replace("}", "},\n" + " " * 12 + "...", 1))
    assert shortened + "\n" in fenced(text, "json"), "README's JSON is not the report, shortened"


README_PLAY = ["-i", "inventory.yml", "site.yml"]


def test_readme_playbook_passes_syntax_check(tmp_path: Path) -> None:
    """README's requirements.yml installs this collection from git, and its
    playbook, with the role by its collection name, passes --syntax-check
    with the collection found where ansible-galaxy would install it."""
    documents = [yaml.safe_load(block) for block in fenced(README.read_text("utf-8"), "yaml")]
    (requirements,) = [d for d in documents if isinstance(d, dict) and "collections" in d]
    (collection,) = requirements["collections"]
    assert collection["type"] == "git"
    assert re.fullmatch(r"https://github\.com/[\w.-]+/tickets\.git", collection["name"])
    (playbook,) = [d for d in documents if isinstance(d, list)]
    assert playbook[0]["roles"] == ["helpdesk.tickets.tickets"]
    assert len(yaml.safe_dump(playbook, sort_keys=False).splitlines()) <= 6 + 1

    collections = tmp_path / "collections" / "ansible_collections" / "helpdesk"
    collections.mkdir(parents=True)
    (collections / "tickets").symlink_to(ROOT)
    (tmp_path / "site.yml").write_text(yaml.safe_dump(playbook), encoding="utf-8")
    inventory = {"all": {"children": {"tickets": {"hosts": {"report-01.example.com": None}}}}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    env = user_environment() | {
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
    }
    result = subprocess.run(
        [ROOT / ".venv" / "bin" / "ansible-playbook", *README_PLAY, "--syntax-check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def slugs(markdown: str) -> set[str]:
    """GitHub's anchors of the headings of a Markdown text (code blocks aside)."""
    prose = re.sub(r"^```.*?^```$", "", markdown, flags=re.M | re.S)
    found: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", prose, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = found.get(slug, 0)
        found[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


DOCS = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "roles" / "tickets" / "README.md"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_somewhere(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    prose = re.sub(r"^```.*?^```$", "", text, flags=re.M | re.S)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    links = re.findall(r"\]\(([^)\s]+)\)", prose)
    if doc == README:
        assert len(links) >= 10, links  # the parser still finds README's links
    broken = []
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue  # https:, mailto:
        path, _, anchor = link.partition("#")
        target = (doc.parent / path).resolve() if path else doc
        if not target.exists():
            broken.append(link)
            continue
        if anchor and target.suffix == ".md" and anchor not in slugs(target.read_text("utf-8")):
            broken.append(link)
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"
