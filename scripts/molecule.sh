#!/usr/bin/env bash
# Run the role's Molecule scenarios: default and cron with `molecule test`;
# lifecycle converges one host through systemd -> cron -> absent, and at each
# phase checks converge, idempotence, check mode (--check --diff changes
# nothing) and verify. Usage: scripts/molecule.sh [SCENARIO ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.venv/bin:$PATH" ANSIBLE_HOME=${ANSIBLE_HOME:-$root/.ansible}
cd "$root/roles/tickets"
log=$(mktemp)
trap 'rm -f "$log" "$log.check"' EXIT
scenarios=("${@:-default cron lifecycle}")
read -r -a scenarios <<<"${scenarios[*]}"

step() { echo "molecule: $*"; }

# A pin change while the package index is down: the play fails at pip, and
# the job keeps working with the old virtualenv (atomic venv upgrade).
failed_upgrade() {
    local s=lifecycle src
    step "lifecycle: a pin change while the package index is down"
    src=$(mktemp -d)
    cp -r "$root/files/." "$src"
    sed -i -E 's/^(shortuuid)==.*/\1==1.0.12/' "$src/requirements.txt"
    if TICKETS_SOURCE_DIR=$src TICKETS_PIP_INDEX_URL=http://127.0.0.1:9/simple \
        molecule converge -s $s >"$log" 2>&1; then
        step "the play passed with the package index down"; rm -rf "$src"; return 1
    fi
    rm -rf "$src"
    # The first failure is pip's (the last task header before it; Molecule
    # boxes and colours Ansible's output).
    sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '/TASK \[/ { task = $0 } /fatal: \[/ { print task; exit }' |
        grep -q 'Install the packages into the new virtualenv' || {
        sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E 'TASK \[|fatal: |ERROR' | tail -n 8
        step "the play did not fail at pip"; return 1; }
    molecule verify -s $s
}

lifecycle() {
    local s=lifecycle
    trap 'molecule destroy -s lifecycle >/dev/null 2>&1 || true; rm -f "$log" "$log.check"' EXIT
    molecule destroy -s $s >/dev/null 2>&1 || true
    molecule dependency -s $s
    molecule create -s $s
    molecule prepare -s $s
    # Check mode on a host the role never touched must not fail.
    TICKETS_SCHEDULER=systemd TICKETS_STATE=present molecule converge -s $s -- --check
    for phase in systemd:present cron:present cron:absent; do
        export TICKETS_SCHEDULER=${phase%%:*} TICKETS_STATE=${phase##*:}
        # The first phase also runs the job from the play (tickets_run_on_deploy).
        export TICKETS_RUN_ON_DEPLOY=$([ "$phase" = systemd:present ] && echo true || echo false)
        step "lifecycle phase: scheduler=$TICKETS_SCHEDULER state=$TICKETS_STATE"
        # --diff: a task that wrote the token without no_log would show it.
        molecule converge -s $s -- --diff 2>&1 | tee "$log"
        molecule idempotence -s $s 2>&1 | tee -a "$log"
        molecule converge -s $s -- --check --diff 2>&1 | tee "$log.check"
        grep -qE 'changed=[1-9]' "$log.check" && { step "check mode reports changes on a converged host"; return 1; }
        cat "$log.check" >>"$log"
        # The API token (shared/converge.yml) must never show, --diff included.
        grep -q molecule-secret-token "$log" && { step "the API token appears in Ansible's output"; return 1; }
        molecule verify -s $s
        if [ "$phase" = systemd:present ]; then failed_upgrade || return 1; fi
    done
    molecule destroy -s $s
}

for scenario in "${scenarios[@]}"; do
    start=$SECONDS
    step "scenario $scenario ..."
    if [ "$scenario" = lifecycle ]; then lifecycle; else molecule test -s "$scenario"; fi
    step "scenario $scenario passed in $((SECONDS - start)) s"
done
