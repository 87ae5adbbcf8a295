#!/usr/bin/env bash
# Starts and stops the pipeline's services as background processes on this machine.
#   Deploy/pipeline.sh start [BIN_DIR]   one instance of each service; logs in .run/logs/
#   Deploy/pipeline.sh stop              SIGTERM each (they drain, commit, leave their groups)
# The services read their settings from the environment (KAFKA_BOOTSTRAP_SERVERS,
# PIPELINE_NAMESPACE, SIM_*, ...; see README.md). INSTANCES_<SERVICE> (e.g. INSTANCES_PROFILE_STAGE=2)
# starts more than one instance of a service.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
services=(coordinator profile-stage activity-stage scoring-stage finalize-stage)
pids="$root/.run/pids"
logs="$root/.run/logs"

case "${1:-}" in
  start)
    bin=${2:-$root/.build/release}
    mkdir -p "$pids" "$logs"
    for service in "${services[@]}"; do
      [ -x "$bin/$service" ] || { echo "pipeline.sh: $bin/$service missing; build first" >&2; exit 1; }
      var="INSTANCES_$(echo "$service" | tr 'a-z-' 'A-Z_')"
      count=${!var:-1}
      for i in $(seq 1 "$count"); do
        "$bin/$service" >"$logs/$service-$i.log" 2>&1 &
        echo $! >"$pids/$service-$i.pid"
      done
    done
    echo "pipeline.sh: started ${services[*]} (logs in $logs)" >&2
    ;;
  stop)
    shopt -s nullglob
    files=("$pids"/*.pid)
    for file in "${files[@]}"; do kill -TERM "$(cat "$file")" 2>/dev/null || true; done
    for file in "${files[@]}"; do
      pid=$(cat "$file")
      for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$file"
    done
    ;;
  *)
    echo "usage: Deploy/pipeline.sh start [BIN_DIR] | stop" >&2
    exit 2
    ;;
esac
