#!/usr/bin/env bash
# Run the role's Molecule scenarios, TICKETS_MOLECULE_JOBS (3) at a time, each
# with `molecule test -s NAME` (scripts/controller.sh for controller: the same
# scenario under the oldest and the newest ansible-core), each with its log in
# .ansible/molecule-logs/NAME.log; the end of a failed one's log is shown.
# Usage: scripts/molecule.sh [SCENARIO ...]   (default: all, the longest first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.venv/bin:$PATH" ANSIBLE_HOME=${ANSIBLE_HOME:-$root/.ansible}
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(lifecycle controller default cron refuse)
jobs_max=${TICKETS_MOLECULE_JOBS:-3}
logs=$root/.ansible/molecule-logs
mkdir -p "$logs"

run() { # SCENARIO
    if [ "$1" = controller ]; then
        "$root/scripts/controller.sh"
    else
        (cd "$root/roles/tickets" && molecule test -s "$1")
    fi
}

declare -A running=() started=()
pending=("${scenarios[@]}") rc=0 total=$SECONDS
while [ ${#pending[@]} -gt 0 ] || [ ${#running[@]} -gt 0 ]; do
    while [ ${#pending[@]} -gt 0 ] && [ ${#running[@]} -lt "$jobs_max" ]; do
        scenario=${pending[0]} pending=("${pending[@]:1}")
        echo "molecule: scenario $scenario started (log: $logs/$scenario.log)"
        run "$scenario" >"$logs/$scenario.log" 2>&1 </dev/null &
        running[$!]=$scenario started[$scenario]=$SECONDS
    done
    status=0
    wait -n -p done_pid || status=$?
    scenario=${running[$done_pid]}
    unset "running[$done_pid]"
    took=$((SECONDS - started[$scenario]))
    if [ "$status" -eq 0 ]; then
        echo "molecule: scenario $scenario passed in $took s"
    else
        echo "molecule: scenario $scenario FAILED (exit $status) after $took s; the end of its log:"
        tail -n 60 "$logs/$scenario.log" | sed 's/^/    /'
        rc=1
    fi
done
echo "molecule: all scenarios done in $((SECONDS - total)) s, $jobs_max at a time"
exit $rc
