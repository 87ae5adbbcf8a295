#!/usr/bin/env bash
# Starts and stops the local Kafka-compatible broker (Tansu, memory-only) on loopback.
#   Deploy/broker.sh start [PORT]   start it, wait until it answers a Metadata request
#   Deploy/broker.sh stop [PORT]    stop it by its pid file
#   Deploy/broker.sh status [PORT]  exit 0 when it answers
# PORT defaults to 9092. State (pid, log) lives in .run/ under the project.
# BROKER_WATCH_PID=PID with `start`: the broker is stopped when that process exits (test runs
# that start their own broker and may end without cleaning up).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command=${1:-}
port=${2:-9092}
run="$root/.run"
pidfile="$run/broker-$port.pid"
logfile="$run/broker-$port.log"
tansu="$root/.tools/bin/tansu"
source "$root/Deploy/env.sh"  # pid_runs

case "$command" in
  start)
    [ -x "$tansu" ] || { echo "broker.sh: $tansu missing; run Deploy/setup.sh" >&2; exit 1; }
    mkdir -p "$run"
    if [ -f "$pidfile" ] && pid_runs "$(cat "$pidfile")" tansu; then
      echo "broker.sh: already running on port $port (pid $(cat "$pidfile"))" >&2
    else
      # setsid: the broker outlives this script but not a `stop`.
      setsid "$tansu" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine memory://tansu/ >"$logfile" 2>&1 < /dev/null &
      echo $! >"$pidfile"
      if [ -n "${BROKER_WATCH_PID:-}" ]; then
        broker=$!
        # Only while the pid file still names this broker: after a stop (and a new broker on the
        # port) the pid is not this one's any more.
        setsid bash -c "while kill -0 $BROKER_WATCH_PID 2>/dev/null; do sleep 1; done
          if [ \"\$(cat '$pidfile' 2>/dev/null)\" = $broker ]; then kill -9 $broker 2>/dev/null; rm -f '$pidfile'; fi" \
          >/dev/null 2>&1 < /dev/null &
      fi
    fi
    if ! python3 "$root/Deploy/kafka_ping.py" "127.0.0.1:$port" 30; then
      echo "broker.sh: broker did not come up; last log lines:" >&2
      tail -n 20 "$logfile" >&2 || true
      # Not left running for nobody: the callers' clean-up starts only once this succeeds.
      kill -9 "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
      exit 1
    fi
    echo "broker.sh: broker on 127.0.0.1:$port (pid $(cat "$pidfile"))" >&2
    ;;
  stop)
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      if pid_runs "$pid" tansu && kill "$pid" 2>/dev/null; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$pidfile"
    fi
    ;;
  status)
    python3 "$root/Deploy/kafka_ping.py" "127.0.0.1:$port" 1
    ;;
  *)
    echo "usage: Deploy/broker.sh start|stop|status [PORT]" >&2
    exit 2
    ;;
esac
