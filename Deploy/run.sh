#!/usr/bin/env bash
# Sets up what is missing, starts a local broker, builds, runs a sample through it, and stops
# everything. KAFKA_PORT picks the broker's port (default: a free one).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash Deploy/setup.sh
source Deploy/env.sh
port=${KAFKA_PORT:-$(free_port)}
bash Deploy/broker.sh start "$port"
trap 'bash "$root/Deploy/broker.sh" stop "$port"' EXIT
swift build -c release --product kafka-bench
.build/release/kafka-bench sample --bootstrap "127.0.0.1:$port"
