#!/usr/bin/env bash
# Starts a Lethe cluster over ssh from a hostfile: the first host runs the coordinator, every other host a
# worker. Copies the key pairs each host needs (never the coordinator's secret to a worker).
#   cluster/launch.sh HOSTFILE KEYDIR [start|stop|status]
# HOSTFILE: one "user@host" (or "host") per line, '#' comments; optional second column: worker threads.
# Each host needs `lethe` on PATH (or set LETHE_BIN) and FashionMNIST is only needed where jobs are submitted.
set -euo pipefail
hostfile=$1
keys=$2
action=${3:-start}
lethe=${LETHE_BIN:-lethe}
port=${LETHE_PORT:-7700}
state=${LETHE_STATE_DIR:-/var/lib/lethe}
mapfile -t hosts < <(grep -v '^\s*#' "$hostfile" | awk 'NF')
[ ${#hosts[@]} -ge 2 ] || { echo "error: $hostfile needs a coordinator line and at least one worker line" >&2; exit 2; }
coordinator=$(awk '{print $1}' <<<"${hosts[0]}")
address=${coordinator#*@}
[ -f "$keys/coordinator.secret" ] || "$lethe" keys init "$keys" >/dev/null

remote() { ssh -o BatchMode=yes "$1" "${@:2}"; }

case $action in
start)
    remote "$coordinator" "mkdir -p ~/.lethe/keys $state"
    scp -q "$keys"/coordinator.* "$keys"/*.allow "$coordinator:~/.lethe/keys/"
    remote "$coordinator" "nohup $lethe coordinator --bind tcp://0.0.0.0:$port --control tcp://127.0.0.1:$((port + 1)) \
        --state-dir $state --keys ~/.lethe/keys >~/.lethe/coordinator.log 2>&1 & echo \$! >~/.lethe/coordinator.pid"
    for line in "${hosts[@]:1}"; do
        host=$(awk '{print $1}' <<<"$line")
        threads=$(awk '{print $2}' <<<"$line")
        remote "$host" "mkdir -p ~/.lethe/keys"
        scp -q "$keys"/worker.* "$keys"/coordinator.public "$host:~/.lethe/keys/"
        remote "$host" "nohup $lethe worker --coordinator tcp://$address:$port --keys ~/.lethe/keys --name \$(hostname) \
            ${threads:+--threads $threads} --cache-dir ~/.lethe/cache >~/.lethe/worker.log 2>&1 & echo \$! >~/.lethe/worker.pid"
    done
    echo "coordinator on $address:$port; submit from $coordinator with LETHE_KEYS=~/.lethe/keys, or tunnel port $((port + 1))"
    ;;
stop)
    for line in "${hosts[@]}"; do
        host=$(awk '{print $1}' <<<"$line")
        remote "$host" 'for f in ~/.lethe/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done' || true
    done
    ;;
status)
    remote "$coordinator" "LETHE_KEYS=~/.lethe/keys $lethe workers --coordinator tcp://127.0.0.1:$((port + 1))"
    ;;
*) echo "usage: $0 HOSTFILE KEYDIR [start|stop|status]" >&2; exit 2 ;;
esac
