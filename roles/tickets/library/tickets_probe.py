"""Look at what the tickets role manages on a host, in one module call."""

from __future__ import annotations

import glob
import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: tickets_probe
short_description: Look at what the tickets role manages on a host, in one call
description:
  - Returns, for each of O(paths) (and each path matching O(patterns)) that
    exists, its type, mode, owner and group, the SHA-1 of a regular file and
    the target of a symbolic link; which of O(packages) dpkg does not list as
    installed; and the version of systemd.
  - It changes nothing. The role compares what it would write with what is
    there and calls the modules that change things only for what differs, so
    that a run that changes nothing makes a handful of module calls.
options:
  paths:
    description: Paths to look at; those that do not exist are left out of RV(files).
    type: list
    elements: path
    required: true
  patterns:
    description: Shell patterns (glob) of more paths to look at.
    type: list
    elements: str
    default: []
  packages:
    description: Debian packages to look for in dpkg's status file.
    type: list
    elements: str
    default: []
  systemd:
    description: Return the version of systemd (C(systemctl --version)).
    type: bool
    default: false
"""

RETURN = r"""
files:
  description: What exists, by path.
  returned: always
  type: dict
  sample:
    /opt/tickets/venv:
      state: link
      mode: "0777"
      owner: root
      group: root
      src: /opt/tickets/venvs/py3.11-0123456789ab
    /etc/tickets/tickets.env:
      state: file
      mode: "0640"
      owner: root
      group: tickets
      checksum: 2aae6c35c94fcfb415dbe95f408b9ce91ee846ed
packages_missing:
  description: The packages of O(packages) that dpkg does not list as installed.
  returned: always
  type: list
  elements: str
systemd_version:
  description: The version of systemd (0 when not asked for, or unknown).
  returned: always
  type: int
"""

DPKG_STATUS = "/var/lib/dpkg/status"
KINDS = {stat.S_IFDIR: "directory", stat.S_IFREG: "file", stat.S_IFLNK: "link"}


def owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def describe(module: AnsibleModule, path: str) -> dict[str, str] | None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    kind = KINDS.get(stat.S_IFMT(st.st_mode), "other")
    entry = {
        "state": kind,
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "owner": owner_name(st.st_uid),
        "group": group_name(st.st_gid),
    }
    if kind == "file":
        entry["checksum"] = module.sha1(path)
    elif kind == "link":
        entry["src"] = os.readlink(path)
    return entry


def missing_packages(names: list[str]) -> list[str]:
    """The names dpkg's status file does not list as installed (its Status
    field ends with "installed": "install ok installed", "hold ok installed")."""
    if not names:
        return []
    installed = set()
    package = None
    try:
        with open(DPKG_STATUS, encoding="utf-8", errors="replace") as status:
            for line in status:
                if line.startswith("Package:"):
                    package = line.split(":", 1)[1].strip()
                elif line.startswith("Status:") and line.split()[-1] == "installed":
                    installed.add(package)
    except FileNotFoundError:
        pass
    return [name for name in names if name not in installed]


def systemd_version(module: AnsibleModule) -> int:
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return 0
    rc, out, _ = module.run_command([systemctl, "--version"])
    words = out.split()
    if rc != 0 or len(words) < 2 or not words[1].isdigit():
        return 0
    return int(words[1])


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "path", "required": True},
            "patterns": {"type": "list", "elements": "str", "default": []},
            "packages": {"type": "list", "elements": "str", "default": []},
            "systemd": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    paths = list(module.params["paths"])
    for pattern in module.params["patterns"]:
        paths.extend(sorted(glob.glob(pattern)))
    files = {}
    for path in paths:
        entry = describe(module, path)
        if entry is not None:
            files[path] = entry
    module.exit_json(
        changed=False,
        files=files,
        packages_missing=missing_packages(module.params["packages"]),
        systemd_version=systemd_version(module) if module.params["systemd"] else 0,
    )


if __name__ == "__main__":
    main()
