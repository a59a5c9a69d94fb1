#!/usr/bin/env bash
# Stops the kube-apiserver of the cluster in $W and starts it again after DOWN seconds, on the same
# port, certificates and etcd (the command up.sh wrote to $W/start-apiserver.sh). For fault tests:
# watches and log follows break, requests are refused while it is down.
#
#   W=/tmp/k8s-e2e bash test/e2e/cluster/restart-apiserver.sh [DOWN_SECONDS]   # default 10
#
# Returns once the new process answers /readyz (at most 120 s), printing its PID.
set -euo pipefail
down=${1:-10}
if [ -z "${W:-}" ] || [ ! -x "$W/start-apiserver.sh" ]; then
  echo "restart-apiserver.sh: W must name a cluster started by up.sh; got '${W:-}'" >&2
  exit 1
fi
# shellcheck source=/dev/null
. "$W/env"
pidfile=$W/pids/kube-apiserver.pid
pid=$(cat "$pidfile")
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$W"; }
if ours "$pid"; then
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 1 80); do ours "$pid" || break; sleep 0.25; done
  ours "$pid" && kill -KILL -- "-$pid" 2>/dev/null
fi
sleep "$down"
setsid "$W/start-apiserver.sh" >>"$W/logs/kube-apiserver.log" 2>&1 </dev/null &
echo $! >"$pidfile"
sed -i "s/^APISERVER_PID=.*/APISERVER_PID=$!/" "$W/env"
P=$W/pki
for _ in $(seq 1 480); do
  if curl -sf --max-time 2 --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" \
    "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1; then
    echo "$!"
    exit 0
  fi
  sleep 0.25
done
echo "restart-apiserver.sh: the API server did not become ready within 120 s; see $W/logs/kube-apiserver.log" >&2
exit 1
