#!/usr/bin/env bash
# Starts and stops the pipeline's services as background processes on this machine.
#   Deploy/pipeline.sh start [BIN_DIR]   every service (BIN_DIR: .build/release); returns once each
#                                        instance answers 200 on /readyz, else stops them all and fails
#   Deploy/pipeline.sh stop              SIGTERM each (they drain, commit, leave their groups);
#                                        SIGKILL what is still running after 15 s
# The services read their settings from the environment (KAFKA_BOOTSTRAP_SERVERS,
# PIPELINE_NAMESPACE, SIM_*, ...; see README.md). This script adds:
#   INSTANCES_<SERVICE>              instances of a service, 1 to 10 (e.g. INSTANCES_PROFILE_STAGE=2)
#   METRICS_BASE_PORT                9400. Instance i (from 1) of the n-th service below (from 0)
#                                    gets METRICS_PORT = METRICS_BASE_PORT + 10 n + i - 1
#                                    (coordinator 9400, profile-stage 9410, ..., web-enricher 9460);
#                                    a METRICS_PORT of the environment is not used
#   PIPELINE_START_TIMEOUT_SECONDS   60: how long `start` waits for every instance to be ready
#   PIPELINE_RUN_DIR                 .run: pids/<service>-<i>.pid and .port, logs/<service>-<i>.log
# METRICS_BIND_ADDRESS passes through; readiness is asked on it, or on 127.0.0.1 for 0.0.0.0.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/Deploy/env.sh"  # pid_runs
services=(coordinator profile-stage activity-stage scoring-stage finalize-stage profile-finder web-enricher)
run=${PIPELINE_RUN_DIR:-$root/.run}
pids="$run/pids"
logs="$run/logs"
base_port=${METRICS_BASE_PORT:-9400}
timeout=${PIPELINE_START_TIMEOUT_SECONDS:-60}
probe_address=${METRICS_BIND_ADDRESS:-127.0.0.1}
[ "$probe_address" = 0.0.0.0 ] && probe_address=127.0.0.1

fail() { echo "pipeline.sh: $*" >&2; exit 1; }

# Stops every process with a pid file: SIGTERM all, then wait for each, SIGKILL after 15 s.
stop_all() {
  shopt -s nullglob
  local files=("$pids"/*.pid) file pid
  local running=()
  for file in "${files[@]}"; do
    pid=$(cat "$file")
    # Only the service the file is of (name-instance.pid): not what reuses a stale pid.
    if pid_runs "$pid" "$(basename "${file%-*.pid}")"; then
      kill -TERM "$pid" 2>/dev/null || true
      running+=("$pid")
    fi
    rm -f "$file" "${file%.pid}.port"
  done
  for pid in "${running[@]}"; do
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

# Whether something accepts connections on the port.
is_listening() { (: <"/dev/tcp/$probe_address/$1") 2>/dev/null; }

# The HTTP status of GET /readyz on the port (000 when nothing answers).
readiness() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$probe_address:$1/readyz" || true; }

# Runs a command with no descriptor of the caller but stdin, stdout and stderr: a caller that
# waits for the end of a pipe or socket this script inherited would otherwise wait for the services.
launch() {
  local fd
  for fd in /proc/self/fd/*; do
    fd=${fd##*/}
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
  done
  exec "$@"
}

# Prints why a process failed and the end of its log.
report_failure() {
  echo "pipeline.sh: $1 $2; last lines of $logs/$1.log:" >&2
  tail -n 10 "$logs/$1.log" >&2 || true
}

# Stops everything started, exits 1.
abort_start() {
  echo "pipeline.sh: stopping the processes started" >&2
  stop_all
  exit 1
}

case "${1:-}" in
  start)
    bin=${2:-$root/.build/release}
    [[ "$base_port" =~ ^[0-9]+$ ]] && [ "$base_port" -ge 1 ] && [ $((base_port + 10 * ${#services[@]})) -le 65535 ] \
      || fail "METRICS_BASE_PORT '$base_port' leaves no room for $((10 * ${#services[@]})) ports below 65536"
    [[ "$timeout" =~ ^[0-9]+$ ]] || fail "PIPELINE_START_TIMEOUT_SECONDS '$timeout' is not a whole number of seconds"
    mkdir -p "$pids" "$logs"
    shopt -s nullglob
    for file in "$pids"/*.pid; do
      pid_runs "$(cat "$file")" "$(basename "${file%-*.pid}")" && fail "already running ($file); run Deploy/pipeline.sh stop first"
      rm -f "$file" "${file%.pid}.port"
    done

    # What to start: name (service-instance), service and port of each process; all checked first.
    names=() ports=() of_service=()
    for n in "${!services[@]}"; do
      service=${services[$n]}
      [ -x "$bin/$service" ] || fail "$bin/$service missing; build first"
      var="INSTANCES_$(echo "$service" | tr 'a-z-' 'A-Z_')"
      count=${!var:-1}
      [[ "$count" =~ ^([1-9]|10)$ ]] || fail "$var '$count' is not 1 to 10"
      for i in $(seq 1 "$count"); do
        port=$((base_port + 10 * n + i - 1))
        is_listening "$port" && fail "port $port (for $service $i) is taken; set METRICS_BASE_PORT"
        names+=("$service-$i") ports+=("$port") of_service+=("$service")
      done
    done

    trap 'stop_all; exit 130' INT TERM
    for k in "${!names[@]}"; do
      name=${names[$k]} port=${ports[$k]}
      METRICS_PORT=$port launch "$bin/${of_service[$k]}" >"$logs/$name.log" 2>&1 </dev/null &
      echo $! >"$pids/$name.pid"
      echo "$port" >"$pids/$name.port"
      printf '%-16s %-3s pid %-7s http://%s:%s/metrics  %s\n' \
        "${of_service[$k]}" "${name##*-}" "$!" "$probe_address" "$port" "$logs/$name.log"
    done

    # Until each is ready; one that exits or is not ready in time fails the start.
    deadline=$(( $(date +%s) + timeout ))
    waiting=("${!names[@]}")
    while [ ${#waiting[@]} -gt 0 ]; do
      still=() exited=0
      for k in "${waiting[@]}"; do
        name=${names[$k]}
        pid=$(cat "$pids/$name.pid")
        if ! kill -0 "$pid" 2>/dev/null; then
          status=0; wait "$pid" || status=$?
          report_failure "$name" "exited with status $status before it was ready"
          exited=1
        elif [ "$(readiness "${ports[$k]}")" != 200 ]; then
          still+=("$k")
        fi
      done
      [ "$exited" = 0 ] || abort_start
      waiting=("${still[@]+"${still[@]}"}")
      [ ${#waiting[@]} -eq 0 ] && break
      if [ "$(date +%s)" -ge "$deadline" ]; then
        for k in "${waiting[@]}"; do
          reason=$(curl -s --max-time 2 "http://$probe_address:${ports[$k]}/readyz" | head -c 200 || true)
          report_failure "${names[$k]}" "not ready after ${timeout}s (/readyz: ${reason:-no answer})"
        done
        abort_start
      fi
      sleep 0.2
    done
    trap - INT TERM
    echo "pipeline.sh: started ${#names[@]} processes, all ready (pids and ports in $pids)" >&2
    ;;
  stop)
    shopt -s nullglob
    files=("$pids"/*.pid)
    stop_all
    echo "pipeline.sh: stopped ${#files[@]} processes" >&2
    ;;
  *)
    echo "usage: Deploy/pipeline.sh start [BIN_DIR] | stop" >&2
    exit 2
    ;;
esac
