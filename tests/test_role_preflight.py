"""The role refuses bad values before anything changes on the host.

The role's own rules (paths, accounts, cron fields, the file formats): one
ansible-playbook run, in check mode and with only the preflight tasks
(--tags tickets_preflight), against many inventory hosts that are all this
machine (connection local), each with one bad value; every refusal must name
its variable, and a host with good (unusual) values must pass.

The values the tool reads (URL, sizes, timeouts, counts, auth scheme,
preset): the tool checks them itself (`tickets --check-config`, which the
role runs on the host before it writes the environment file). Here the
role's own template renders each host's environment file and the tool, run
from files/, must refuse it in one line that names the role variable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import ROOT

BASE = {
    "tickets_api_url": "http://127.0.0.1:3000/tickets",
    # The test machine need not run systemd; the scheduler is not what is tested.
    "tickets_scheduler": "cron",
}
SECRET = "pr3flight-secret"

# host: (its variables, the variable the refusal must name, more text it must hold)
CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "root_install": ({"tickets_install_dir": "/"}, "tickets_install_dir", "system directory"),
    "etc_config": ({"tickets_config_dir": "/etc"}, "tickets_config_dir", "system directory"),
    "etc_config_absent": (
        {"tickets_config_dir": "/etc", "tickets_state": "absent"},
        "tickets_config_dir",
        "system directory",
    ),
    "opt_install": ({"tickets_install_dir": "/opt/"}, "tickets_install_dir", "system directory"),
    "usr_install": ({"tickets_install_dir": "/usr"}, "tickets_install_dir", "system directory"),
    "var_lib_report": ({"tickets_report_dir": "/var/lib"}, "tickets_report_dir", "system"),
    "home_report": ({"tickets_report_dir": "/home/ops/reports"}, "tickets_report_dir", "sandbox"),
    "tmp_report": ({"tickets_report_dir": "/tmp/reports"}, "tickets_report_dir", "sandbox"),
    "var_tmp_config": ({"tickets_config_dir": "/var/tmp/t"}, "tickets_config_dir", "sandbox"),
    "space_report": ({"tickets_report_dir": "/srv/my reports"}, "tickets_report_dir", "letters"),
    "percent_install": ({"tickets_install_dir": "/srv/t%h"}, "tickets_install_dir", "letters"),
    "quote_config": ({"tickets_config_dir": "/srv/it's"}, "tickets_config_dir", "letters"),
    "relative_report": ({"tickets_report_dir": "reports"}, "tickets_report_dir", "absolute"),
    "dotdot_report": ({"tickets_report_dir": "/srv/../etc"}, "tickets_report_dir", ".."),
    "nested_report": (
        {"tickets_report_dir": "/opt/tickets/reports"},
        "tickets_report_dir",
        "tickets_install_dir",
    ),
    "keep_releases": ({"tickets_keep_releases": 1}, "tickets_keep_releases", "2 or more"),
    "no_api_url": ({"tickets_api_url": ""}, "tickets_api_url", "must be set"),
    "job_timeout": ({"tickets_job_timeout_sec": 0}, "tickets_job_timeout_sec", "greater than 0"),
    "delay": ({"tickets_randomized_delay_sec": -5}, "tickets_randomized_delay_sec", "0 or more"),
    "minute_60": ({"tickets_cron_minute": "60"}, "tickets_cron_minute", "0 to 59"),
    "minute_two_fields": ({"tickets_cron_minute": "0 0"}, "tickets_cron_minute", "minute"),
    "hour_25": ({"tickets_cron_hour": "*/3,25"}, "tickets_cron_hour", "0 to 23"),
    "hour_step_0": ({"tickets_cron_hour": "*/0"}, "tickets_cron_hour", "STEP"),
    "user_root": ({"tickets_user": "root"}, "tickets_user", "root"),
    "group_name": ({"tickets_group": "bad group"}, "tickets_group", "group name"),
    "schedule": ({"tickets_schedule": "daily\nExecStart=/bin/evil"}, "tickets_schedule", "line"),
    "status_comma": ({"tickets_open_statuses": ["open,new"]}, "tickets_open_statuses", "comma"),
    "env_name": (
        {"tickets_job_environment": {"BAD-NAME": SECRET}},
        "tickets_job_environment",
        "BAD-NAME",
    ),
    "status_quote": (
        {"tickets_closed_statuses": ["won't fix"]},
        "tickets_closed_statuses",
        "quote",
    ),
}
# Checked by the tool (--check-config), named by the role variable.
TOOL_CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "keep": ({"tickets_keep_reports": -1}, "tickets_keep_reports", ">= 0"),
    "timeout": ({"tickets_http_timeout": 0}, "tickets_http_timeout", "positive number"),
    "retries": ({"tickets_http_retries": -1}, "tickets_http_retries", ">= 0"),
    "size_unit": ({"tickets_max_response_size": "1T"}, "tickets_max_response_size", "512K"),
    "size_zero": ({"tickets_max_response_size": "0M"}, "tickets_max_response_size", "size"),
    "api_url": (
        {"tickets_api_url": f"ftp://user:{SECRET}@api.example/t?key={SECRET}"},
        "tickets_api_url",
        "'ftp://api.example/t'",
    ),
    "auth": ({"tickets_auth": "digest"}, "tickets_auth", "header:NAME"),
    "max_pages": ({"tickets_max_pages": -3}, "tickets_max_pages", "> 0"),
    "items_path": ({"tickets_items_path": "data.0"}, "tickets_items_path", "object keys"),
    "both_statuses": (
        {"tickets_open_statuses": ["new"], "tickets_closed_statuses": ["done"]},
        "TICKETS_CLOSED_STATUSES",
        "exclude each other",
    ),
}
GOOD = {
    "tickets_install_dir": "/srv/tickets-app",
    "tickets_config_dir": "/etc/tickets-2",
    "tickets_report_dir": "/var/lib/tickets/reports",
    "tickets_cron_minute": "*/15,7",
    "tickets_cron_hour": "1-5/2,23",
    "tickets_max_response_size": "512Ki",
    "tickets_http_timeout": 0.5,
    "tickets_keep_reports": 0,
    "tickets_http_retries": 0,
    "tickets_job_environment": {"https_proxy": f"http://u:{SECRET}@proxy:3128"},
    "tickets_preset": "github",
    "tickets_auth": "header:PRIVATE-TOKEN",
    "tickets_page_size": 50,
    "tickets_closed_statuses": ["closed", "won-t-fix"],
}


@pytest.fixture(scope="module")
def preflight(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the preflight once for every host; return its output by host."""
    playbook_bin = Path(sys.executable).parent / "ansible-playbook"
    if not playbook_bin.exists():
        pytest.skip("ansible-playbook is not in the venv (make venv)")
    work = tmp_path_factory.mktemp("preflight")
    hosts = {name: {**BASE, **values} for name, (values, _, _) in CASES.items()}
    hosts["good"] = {**BASE, **GOOD}
    for variables in hosts.values():
        variables.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    (work / "inventory.json").write_text(json.dumps({"all": {"hosts": hosts}}))
    (work / "play.yml").write_text("- hosts: all\n  gather_facts: false\n  roles: [tickets]\n")
    env = {
        **os.environ,
        "ANSIBLE_HOME": str(work / "ansible"),
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible" / "tmp"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_FORKS": "10",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
    }
    command = [str(playbook_bin), "-i", str(work / "inventory.json"), str(work / "play.yml")]
    command += ["--check", "--tags", "tickets_preflight"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=work)
    shutil.rmtree(work / "ansible", ignore_errors=True)
    output = json.loads(done.stdout)
    by_host: dict[str, Any] = {name: {"messages": [], "changed": []} for name in hosts}
    for play in output["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                for item in result.get("results", [result]):
                    if item.get("failed"):
                        by_host[host]["messages"].append(str(item.get("msg")))
                    if item.get("changed"):
                        by_host[host]["changed"].append(task["task"]["name"])
    stats = output["stats"]
    return {"hosts": by_host, "stdout": done.stdout, "stderr": done.stderr, "stats": stats}


@pytest.mark.parametrize("host", sorted(CASES))
def test_bad_value_is_refused(preflight: dict[str, Any], host: str) -> None:
    _, variable, needle = CASES[host]
    result = preflight["hosts"][host]
    assert preflight["stats"][host]["failures"] == 1, result
    assert result["changed"] == []
    assert any(variable in m and needle in m for m in result["messages"]), result["messages"]


def test_good_values_pass(preflight: dict[str, Any]) -> None:
    assert preflight["hosts"]["good"]["messages"] == []
    assert preflight["stats"]["good"]["failures"] == 0
    assert preflight["stats"]["good"]["changed"] == 0


def test_no_secret_in_the_output(preflight: dict[str, Any]) -> None:
    assert SECRET not in preflight["stdout"]
    assert SECRET not in preflight["stderr"]


@pytest.fixture(scope="module")
def tool_check(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Render each host's environment file with the role's template and its
    defaults and vars, then run the tool's --check-config on it; return the
    tool's exit code and last stderr line by host."""
    playbook_bin = Path(sys.executable).parent / "ansible-playbook"
    if not playbook_bin.exists():
        pytest.skip("ansible-playbook is not in the venv (make venv)")
    work = tmp_path_factory.mktemp("toolcheck")
    role = ROOT / "roles" / "tickets"
    # The role's defaults and vars as the group's variables: each host's own win.
    group_vars = {
        **yaml.safe_load((role / "defaults" / "main.yml").read_text()),
        **yaml.safe_load((role / "vars" / "main.yml").read_text()),
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
    }
    hosts = {name: {**BASE, **values} for name, (values, _, _) in TOOL_CASES.items()}
    hosts["good"] = {**BASE, **GOOD}
    (work / "inventory.json").write_text(json.dumps({"all": {"hosts": hosts, "vars": group_vars}}))
    (work / "play.yml").write_text(
        f"""- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.template:
        src: {role}/templates/tickets.env.j2
        dest: "{work}/{{{{ inventory_hostname }}}}.env"
        mode: "0600"
    - ansible.builtin.command:
        argv: [{sys.executable}, {ROOT}/files/tickets.py, --check-config,
               "{work}/{{{{ inventory_hostname }}}}.env"]
      register: check
      changed_when: false
      failed_when: false
    - ansible.builtin.copy:
        content: "{{{{ {{'rc': check.rc, 'stderr': check.stderr_lines}} | to_json }}}}"
        dest: "{work}/{{{{ inventory_hostname }}}}.json"
        mode: "0600"
"""
    )
    env = {
        **os.environ,
        "ANSIBLE_HOME": str(work / "ansible"),
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible" / "tmp"),
        "ANSIBLE_FORKS": "10",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
    }
    command = [str(playbook_bin), "-i", str(work / "inventory.json"), str(work / "play.yml")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=work)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = {name: json.loads((work / f"{name}.json").read_text()) for name in hosts}
    envs = {name: (work / f"{name}.env").read_text() for name in hosts}
    return {"results": results, "envs": envs, "stdout": done.stdout, "stderr": done.stderr}


@pytest.mark.parametrize("host", sorted(TOOL_CASES))
def test_the_tool_refuses_a_bad_value_naming_the_role_variable(
    tool_check: dict[str, Any], host: str
) -> None:
    _, variable, needle = TOOL_CASES[host]
    result = tool_check["results"][host]
    assert result["rc"] == 2, result
    last = result["stderr"][-1]
    assert last.startswith("tickets.py: error: "), last
    assert variable in last and needle in last, last
    assert SECRET not in "\n".join(result["stderr"])


def test_the_tool_accepts_good_values(tool_check: dict[str, Any]) -> None:
    assert tool_check["results"]["good"]["rc"] == 0, tool_check["results"]["good"]
    env = tool_check["envs"]["good"]
    # Each setting under a comment naming its role variable; empty ones left out.
    assert "# tickets_preset\nTICKETS_PRESET='github'\n" in env
    assert "# tickets_page_size\nTICKETS_PAGE_SIZE='50'\n" in env
    assert "TICKETS_MAX_PAGES" not in env and "TICKETS_OPEN_STATUSES" not in env
    assert "# tickets_job_environment\nhttps_proxy=" in env


def test_no_secret_in_the_tool_check_output(tool_check: dict[str, Any]) -> None:
    assert SECRET not in tool_check["stdout"]
    assert SECRET not in tool_check["stderr"]
