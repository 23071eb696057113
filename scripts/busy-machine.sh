#!/usr/bin/env bash
# Runs `npm run test:all` on a busy machine: six CPU-bound processes compete with it for the cores the whole
# time. The suite bounds counts, not speed, so it must pass anyway (issue 13). Prints the suite's result as
# its last line, `N passed, N failed` from Vitest's JSON report, and exits with the suite's status.
#
#   npm run test:busy                    # six busy processes
#   BUSY_PROCESSES=12 npm run test:busy  # more
set -euo pipefail
cd "$(dirname "$0")/.."

busy=${BUSY_PROCESSES:-6}
report=$(mktemp --suffix=.json)
pids=()
stop_busy() {
  # Only the processes this script started, by their pid.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}
trap stop_busy EXIT INT TERM

for _ in $(seq "$busy"); do
  node -e 'for (;;) Math.sqrt(Math.random());' &
  pids+=("$!")
done
echo "busy-machine: ${busy} CPU-bound processes started (pids ${pids[*]}) on $(nproc) cores; running npm run test:all"

started=$(date +%s)
status=0
npm run test:all -- --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
seconds=$(( $(date +%s) - started ))
stop_busy
echo "busy-machine: test:all took ${seconds} s with ${busy} busy processes, exit status ${status}"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const file of r.testResults)
    for (const test of file.assertionResults)
      if (test.status === "failed") console.log(`FAILED ${file.name} > ${test.fullName}`);
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || { echo "0 passed, 1 failed"; exit 1; }
exit "$status"
