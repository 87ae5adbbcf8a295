#!/usr/bin/env bash
# The chaos run: two instances of every service, CHAOS_LEADS leads (default 5000), one random
# process killed with SIGKILL and restarted every CHAOS_KILL_SECONDS (default 3) until every lead
# is in the lead pool, and the broker stopped once (SIGSTOP) for CHAOS_BROKER_PAUSE_SECONDS
# (default 20); then checks that nothing was lost (counted in the pool), finished twice or charged
# twice, and that every consumer group drains to zero lag. Prints the numbers (also in .run/chaos-summary.txt).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CHAOS_LEADS=${CHAOS_LEADS:-5000}
export CHAOS_KILL_SECONDS=${CHAOS_KILL_SECONDS:-3}
export CHAOS_LATENCY_SCALE=${CHAOS_LATENCY_SCALE:-0.05}
export CHAOS_BROKER_PAUSE_SECONDS=${CHAOS_BROKER_PAUSE_SECONDS:-20}
bash Deploy/test.sh --filter ChaosSystemTests
cat .run/chaos-summary.txt; echo
