#!/usr/bin/env bash
# Sets up what is missing, builds, and runs every test. With no arguments the test classes run
# side by side in TEST_LANES lanes (default 4), each lane with a local broker of its own
# (Deploy/run_tests.py); with arguments, they go to one `swift test` against one local broker
# (for example `--filter AdminTests`). Either way the last line is `tests: P passed, F failed`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash Deploy/setup.sh
source Deploy/env.sh
swift build --build-tests
log="$root/.run/test-output.log"
mkdir -p "$root/.run"
if [ "$#" -eq 0 ]; then
  bundle=$(ls -d "$(swift build --show-bin-path)"/*PackageTests.xctest | head -n 1)
  exec python3 Deploy/run_tests.py "$bundle" "${TEST_LANES:-4}" "$log"
fi
port=$(free_port)
bash Deploy/broker.sh start "$port"
trap 'bash "$root/Deploy/broker.sh" stop "$port"' EXIT
export KAFKA_TEST_BOOTSTRAP_SERVERS="127.0.0.1:$port"
# XCTest only (the project has no Swift Testing tests); the output is kept to print one plain
# closing line from XCTest's summary.
status=0
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -n 1 || true)
if [ -n "$summary" ]; then
  total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
  # XCTest's "with N failures" counts failed assertions; a test counts once however many failed.
  failed=$({ grep -oE "^Test Case '[^']*' failed" "$log" || true; } | sort -u | wc -l)
  failed=$(( failed > total ? total : failed ))
  echo "tests: $((total - failed)) passed, $failed failed"
fi
exit "$status"
