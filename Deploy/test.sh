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
swift test --skip-build "$@"
