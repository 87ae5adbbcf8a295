#!/usr/bin/env bash
# Sets up what is missing, starts a local broker on a free port, runs every test against it,
# and stops the broker. Extra arguments go to `swift test` (for example `--filter AdminTests`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash Deploy/setup.sh
source Deploy/env.sh
port=$(free_port)
bash Deploy/broker.sh start "$port"
trap 'bash "$root/Deploy/broker.sh" stop "$port"' EXIT
export KAFKA_TEST_BOOTSTRAP_SERVERS="127.0.0.1:$port"
swift build --build-tests
# XCTest only (the project has no Swift Testing tests); the output is kept to print one plain
# closing line from XCTest's summary.
log="$root/.run/test-output.log"
status=0
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -n 1 || true)
if [ -n "$summary" ]; then
  total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
  failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
  echo "tests: $((total - failed)) passed, $failed failed"
fi
exit "$status"
