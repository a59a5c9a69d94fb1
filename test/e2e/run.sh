#!/usr/bin/env bash
# Run the e2e suite against a local control plane built from the Go module proxy:
# build (cached) -> up -> vitest project "e2e" -> down (always).
#
#   bash test/e2e/run.sh [json-report-path]      # default: e2e-report.json
#
# Prints how long build, start and tests took; exits non-zero on any failure. When the
# cluster cannot be had (no Go, build or start-up failure) the JSON report holds one failed
# test that says why, so CI never counts a missing cluster as a pass.
# Env: E2E_BUILD_TIMEOUT (s, default 4200), E2E_TEST_TIMEOUT (s, default 1200),
#      E2E_KEEP_W=1 keeps the cluster's work dir (logs) after the run.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLUSTER=$ROOT/test/e2e/cluster
REPORT=${1:-e2e-report.json}
case $REPORT in /*) ;; *) REPORT=$PWD/$REPORT ;; esac
mkdir -p "$(dirname "$REPORT")"
cd "$ROOT" || exit 1

# Writes a vitest-shaped JSON report with one failed test: the reason there was no run.
fail_report() { # title message
  npx node -e '
    const [file, title, message] = process.argv.slice(1);
    const now = Date.now();
    const test = { ancestorTitles: ["e2e cluster"], fullName: `e2e cluster ${title}`, status: "failed",
      title, duration: 0, failureMessages: [message], meta: {} };
    const report = { numTotalTestSuites: 1, numPassedTestSuites: 0, numFailedTestSuites: 1,
      numPendingTestSuites: 0, numTotalTests: 1, numPassedTests: 0, numFailedTests: 1,
      numPendingTests: 0, numTodoTests: 0, success: false, startTime: now,
      testResults: [{ name: "test/e2e/run.sh", status: "failed", message, startTime: now, endTime: now,
        assertionResults: [test] }] };
    require("node:fs").writeFileSync(file, JSON.stringify(report, null, 2));
  ' "$REPORT" "$1" "$2"
  echo "run.sh: FAILED: $1: $2" >&2
}

W=$(mktemp -d "${TMPDIR:-/tmp}/k8s-executor-e2e.XXXXXX")
cleanup() {
  [ -d "$W/pids" ] && W=$W bash "$CLUSTER/down.sh"
  [ -d "$W" ] && [ "${E2E_KEEP_W:-}" != 1 ] && rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t=$(date +%s)
if ! command -v go >/dev/null 2>&1; then
  fail_report "needs Go" "Go (>= 1.26) is not installed, so the e2e control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) cannot be built from the Go module proxy. Install Go 1.26+, or run the suite against an existing cluster: KUBECONFIG=... npx vitest run --project e2e"
  exit 1
fi
BIN=$(timeout "${E2E_BUILD_TIMEOUT:-4200}" bash "$CLUSTER/build.sh")
rc=$?
echo "run.sh: build took $(($(date +%s) - t)) s" >&2
if [ "$rc" != 0 ]; then
  fail_report "build" "test/e2e/cluster/build.sh failed (exit $rc; 124 = timed out); see its output above"
  exit 1
fi

t=$(date +%s)
if ! W=$W BIN=$BIN timeout 300 bash "$CLUSTER/up.sh" >/dev/null; then
  echo "run.sh: start took $(($(date +%s) - t)) s" >&2
  fail_report "start" "test/e2e/cluster/up.sh could not start the control plane; the component logs are printed above"
  exit 1
fi
echo "run.sh: start took $(($(date +%s) - t)) s" >&2

set -a
# shellcheck source=/dev/null
. "$W/env"
set +a
export E2E_KWOK_FATES=1 NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy=$NO_PROXY

t=$(date +%s)
rm -f "$REPORT"
timeout "${E2E_TEST_TIMEOUT:-1200}" npx vitest run --project e2e --reporter=default --reporter=json \
  --outputFile.json="$REPORT"
rc=$?
echo "run.sh: tests took $(($(date +%s) - t)) s" >&2
if [ ! -s "$REPORT" ]; then
  fail_report "tests" "vitest exited $rc without writing a JSON report (124 = timed out)"
  exit 1
fi
exit "$rc"
