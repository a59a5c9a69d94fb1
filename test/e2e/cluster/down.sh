#!/usr/bin/env bash
# Stop the cluster that up.sh started in $W and remove $W.
#
#   W=/tmp/k8s-e2e bash test/e2e/cluster/down.sh
#
# Kills exactly the processes up.sh recorded in $W/pids (each is a session and process-group
# leader, so its children go too), never anything found by name. A PID is only signalled
# while its command line still names $W, so a PID reused by another program is left alone.
# E2E_KEEP_W=1 stops the processes but keeps $W (logs, pki) for inspection.
set -uo pipefail

if [ -z "${W:-}" ] || [ ! -d "$W/pids" ]; then
  echo "down.sh: W must name a directory made by up.sh (with a pids/ folder); got '${W:-}'" >&2
  exit 1
fi

ours() { # pid -> true while that process still is one of this cluster's components
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$W"
}

# Reverse start order: clients before the apiserver, etcd last.
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  file=$W/pids/$name.pid
  [ -f "$file" ] || continue
  pid=$(cat "$file")
  if ours "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 40); do ours "$pid" || break; sleep 0.25; done
    ours "$pid" && kill -KILL -- "-$pid" 2>/dev/null
  fi
  rm -f "$file"
done
rm -f "$W/env"

if [ "${E2E_KEEP_W:-}" = 1 ]; then
  echo "down.sh: stopped; kept $W" >&2
else
  rm -rf "$W"
  echo "down.sh: stopped and removed $W" >&2
fi
