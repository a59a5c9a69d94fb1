#!/usr/bin/env bash
# Start a throw-away Kubernetes control plane for the e2e tests, all on 127.0.0.1 with
# free ports: etcd, kube-apiserver (RBAC), kube-controller-manager, kube-scheduler, and
# KWOK as the kubelet of one fake node whose pods follow ./kwok-stages.yaml.
#
#   W=/tmp/k8s-e2e bash test/e2e/cluster/up.sh     # W defaults to a new mktemp dir
#   export KUBECONFIG=/tmp/k8s-e2e/kubeconfig        # admin (system:masters)
#   W=/tmp/k8s-e2e bash test/e2e/cluster/down.sh
#
# Writes into $W: kubeconfig (admin), kubeconfig-sa (ServiceAccount default/e2e-runner,
# bearer token, no RBAC bindings), env (ports, PIDs, paths; shell-sourceable), pki/,
# logs/<component>.log, pod-logs/container.log (what every container "printed").
# Returns once the node is Ready and untainted and default/default ServiceAccount exists.
# On failure it prints the tail of every component log and stops what it started
# (E2E_KEEP_W=1 keeps $W for inspection).
# BIN (dir with the five binaries) defaults to the output of build.sh (cached).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
W=${W:-$(mktemp -d "${TMPDIR:-/tmp}/k8s-executor-e2e.XXXXXX")}
W=$(mkdir -p "$W" && cd "$W" && pwd)
if [ -f "$W/env" ]; then
  echo "up.sh: $W already holds a cluster (see $W/env); stop it with: W=$W bash $HERE/down.sh" >&2
  exit 1
elif [ -n "$(ls -A "$W")" ]; then
  # down.sh deletes $W, so never adopt a folder that holds anything else.
  echo "up.sh: W=$W is not empty; give an empty or new folder (or leave W unset for a temporary one)" >&2
  exit 1
fi
BIN=${BIN:-$(bash "$HERE/build.sh")}
for p in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
  [ -x "$BIN/$p" ] || { echo "up.sh: $BIN/$p is missing; run test/e2e/cluster/build.sh" >&2; exit 1; }
done

P=$W/pki
mkdir -p "$P" "$W/logs" "$W/pids" "$W/pod-logs"
mkdir -m 700 "$W/etcd"
started=$(date +%s)

on_exit() {
  local rc=$?
  [ "$rc" = 0 ] && return
  echo "up.sh: start-up failed (exit $rc); last lines of each component log:" >&2
  for f in "$W"/logs/*.log; do
    [ -f "$f" ] || continue
    echo "----- $f" >&2
    tail -n 40 "$f" >&2
  done
  W=$W bash "$HERE/down.sh" >&2 || true # honours E2E_KEEP_W
}
trap on_exit EXIT

free_port() { # asks the kernel for a free loopback port
  node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# ---------- throw-away PKI: one CA, a serving cert, an admin client cert, an SA key pair ----------
quiet() { "$@" >/dev/null 2>&1 || { echo "up.sh: failed: $*" >&2; return 1; }; }
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 30 \
  -subj "/CN=k8s-executor-e2e-ca" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
sign() { # name subject extensions
  quiet openssl req -newkey rsa:2048 -nodes -keyout "$P/$1.key" -out "$P/$1.csr" -subj "$2"
  printf '%b' "$3" > "$P/$1.ext"
  quiet openssl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
    -out "$P/$1.crt" -days 30 -extfile "$P/$1.ext"
}
sign serving "/CN=kube-apiserver" \
  "subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
sign admin "/O=system:masters/CN=e2e-admin" \
  "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
quiet openssl genrsa -out "$P/sa.key" 2048
quiet openssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub"

ETCD_PORT=$(free_port); ETCD_PEER_PORT=$(free_port); API_PORT=$(free_port)
KCM_PORT=$(free_port); SCHED_PORT=$(free_port); KWOK_PORT=$(free_port)
API=https://127.0.0.1:$API_PORT

kubeconfig() { # user-name, then the user's fields as YAML lines
  local user=$1; shift
  printf '%s\n' "apiVersion: v1" "kind: Config" "clusters:" "- name: e2e" "  cluster:" \
    "    server: $API" "    certificate-authority: $P/ca.crt" "users:" "- name: $user" "  user:"
  printf '    %s\n' "$@"
  printf '%s\n' "contexts:" "- name: e2e" "  context: {cluster: e2e, user: $user, namespace: default}" \
    "current-context: e2e"
}
kubeconfig e2e-admin "client-certificate: $P/admin.crt" "client-key: $P/admin.key" > "$W/kubeconfig"

# ---------- processes: each in its own session/process group, PID saved for down.sh ----------
start() { # name command...
  local name=$1; shift
  setsid "$@" >"$W/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$W/pids/$name.pid"
}
wait_for() { # description seconds command... (polls every 0.25 s)
  local what=$1 seconds=$2 t0
  shift 2
  t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if [ $(($(date +%s) - t0)) -ge "$seconds" ]; then
      echo "up.sh: gave up waiting for $what after $seconds s" >&2
      return 1
    fi
    for f in "$W"/pids/*.pid; do
      kill -0 "$(cat "$f")" 2>/dev/null || { echo "up.sh: $(basename "$f" .pid) exited" >&2; return 1; }
    done
    sleep 0.25
  done
}
CURL=(curl -sf --max-time 5 --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key")

start etcd "$BIN/etcd" --name=e2e --data-dir="$W/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="e2e=http://127.0.0.1:$ETCD_PEER_PORT" \
  --auto-compaction-retention=1 --quota-backend-bytes=2147483648 \
  --unsafe-no-fsync=true --log-level=warn
wait_for etcd 30 curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"

# Bound ServiceAccount tokens (TokenRequest) need the issuer and the signing key pair. The command
# is a script of its own so that restart-apiserver.sh starts it again on the same port and etcd
# (the fault tests stop the API server while blocks run). E2E_AUDIT_LOG=1 writes an audit log.
audit=()
if [ "${E2E_AUDIT_LOG:-}" = 1 ]; then
  audit=(--audit-log-path="$W/logs/audit.log" --audit-policy-file="$HERE/audit-policy.yaml"
    --audit-log-format=json --audit-log-mode=blocking)
fi
{
  echo '#!/usr/bin/env bash'
  printf 'exec'
  printf ' %q' "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --advertise-address=127.0.0.1 --bind-address=127.0.0.1 --secure-port="$API_PORT" \
    --tls-cert-file="$P/serving.crt" --tls-private-key-file="$P/serving.key" \
    --client-ca-file="$P/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --authorization-mode=RBAC \
    --allow-privileged=true \
    --endpoint-reconciler-type=none \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    "${audit[@]}"
  echo
} >"$W/start-apiserver.sh"
chmod +x "$W/start-apiserver.sh"
start kube-apiserver "$W/start-apiserver.sh"
wait_for kube-apiserver 120 "${CURL[@]}" "$API/readyz"

# Only the controllers the Jobs and the test namespaces need (names: kube-controller-manager --help).
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$W/kubeconfig" --leader-elect=false \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
  --root-ca-file="$P/ca.crt" --service-account-private-key-file="$P/sa.key" \
  --controllers=job-controller,cronjob-controller,ttl-after-finished-controller,garbage-collector-controller,pod-garbage-collector-controller,node-lifecycle-controller,serviceaccount-controller,serviceaccount-token-controller,namespace-controller,root-ca-certificate-publisher-controller,resourcequota-controller \
  --node-monitor-period=25s --node-monitor-grace-period=3m20s

start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig="$W/kubeconfig" --leader-elect=false \
  --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics

# KWOK serves the kubelet API (pod logs) on 127.0.0.1:$KWOK_PORT; every container's log is
# pod-logs/container.log (CRI format), copied here so tests may append lines to it.
cp "$HERE/pod-logs/container.log" "$W/pod-logs/container.log"
cat >"$W/kwok-logs.yaml" <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: every-container
spec:
  logs:
  - logsFile: $W/pod-logs/container.log
    previousLogsFile: $W/pod-logs/container.log
EOF
# HOME=$W: kwok would also load ~/.kwok/kwok.yaml (and its stages) when that exists.
start kwok env HOME="$W" "$BIN/kwok" \
  --kubeconfig="$W/kubeconfig" \
  --config="$HERE/kwok-stages.yaml" --config="$W/kwok-logs.yaml" \
  --manage-all-nodes=true \
  --node-ip=127.0.0.1 --node-name=localhost --node-port="$KWOK_PORT" \
  --server-address="127.0.0.1:$KWOK_PORT" \
  --tls-cert-file="$P/serving.crt" --tls-private-key-file="$P/serving.key" \
  --node-lease-duration-seconds=200 --cidr=10.244.0.0/16

wait_for kube-controller-manager 60 curl -skf --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz"
wait_for kube-scheduler 60 curl -skf --max-time 2 "https://127.0.0.1:$SCHED_PORT/healthz"

# One fake node without taints, so Jobs need no tolerations.
"${CURL[@]}" -X POST -H 'Content-Type: application/json' "$API/api/v1/nodes" -d '{
  "apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "kwok-node-0",
    "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
    "labels": {"kubernetes.io/hostname": "kwok-node-0", "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64", "type": "kwok"}}}' >/dev/null
node_ready() { # Ready=True and no taints left (the node-lifecycle controller removes not-ready)
  "${CURL[@]}" "$API/api/v1/nodes/kwok-node-0" | node -e '
    let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => {
      const n = JSON.parse(s);
      const ready = (n.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
      process.exit(ready && (n.spec.taints ?? []).length === 0 ? 0 : 1);
    });'
}
wait_for "node kwok-node-0 Ready and untainted" 90 node_ready
wait_for "ServiceAccount default/default" 60 "${CURL[@]}" "$API/api/v1/namespaces/default/serviceaccounts/default"

# A restricted identity for RBAC tests: ServiceAccount default/e2e-runner (no bindings),
# with a 24 h bound token from the TokenRequest API in kubeconfig-sa.
"${CURL[@]}" -X POST -H 'Content-Type: application/json' "$API/api/v1/namespaces/default/serviceaccounts" \
  -d '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"e2e-runner"}}' >/dev/null
SA_TOKEN=$("${CURL[@]}" -X POST -H 'Content-Type: application/json' \
  "$API/api/v1/namespaces/default/serviceaccounts/e2e-runner/token" \
  -d '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":86400}}' |
  node -e 'let s="";process.stdin.on("data",(d)=>{s+=d;}).on("end",()=>console.log(JSON.parse(s).status.token))')
(umask 077 && kubeconfig e2e-runner "token: $SA_TOKEN" > "$W/kubeconfig-sa")

pid_of() { cat "$W/pids/$1.pid"; }
cat >"$W/env" <<EOF
W=$W
BIN=$BIN
KUBECONFIG=$W/kubeconfig
E2E_SA_KUBECONFIG=$W/kubeconfig-sa
E2E_POD_LOG=$W/pod-logs/container.log
API_PORT=$API_PORT
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
KCM_PORT=$KCM_PORT
SCHED_PORT=$SCHED_PORT
KWOK_PORT=$KWOK_PORT
ETCD_PID=$(pid_of etcd)
APISERVER_PID=$(pid_of kube-apiserver)
KCM_PID=$(pid_of kube-controller-manager)
SCHEDULER_PID=$(pid_of kube-scheduler)
KWOK_PID=$(pid_of kwok)
EOF
echo "up.sh: cluster ready in $(($(date +%s) - started)) s; W=$W" >&2
echo "export KUBECONFIG=$W/kubeconfig"
