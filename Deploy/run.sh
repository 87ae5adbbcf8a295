#!/usr/bin/env bash
# The pipeline end to end on this machine: sets up what is missing, starts a local broker, builds,
# creates the topics, starts the seven services as processes of their own with Deploy/pipeline.sh
# (simulated providers; each serves /metrics on its own port from METRICS_BASE_PORT, default 9400,
# and is ready before the demo goes on), publishes the sample leads of docs/samples, waits until
# all are in the lead pool, prints the before and after of a few, and stops everything.
#   KAFKA_PORT           broker port (default: a free one)
#   SIM_LATENCY_SCALE    provider latency multiplier (default 0.25 for a quick demo; 1 = realistic)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash Deploy/setup.sh
source Deploy/env.sh
port=${KAFKA_PORT:-$(free_port)}
export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$port"
export PIPELINE_NAMESPACE=${PIPELINE_NAMESPACE:-demo}
export SIM_LATENCY_SCALE=${SIM_LATENCY_SCALE:-0.25}
export LOG_LEVEL=${LOG_LEVEL:-warning}
export KAFKA_PROPERTY_LOG__LEVEL=${KAFKA_PROPERTY_LOG__LEVEL:-3}

echo "== building (release)"
build_log=$(mktemp)
if ! swift build -c release >"$build_log" 2>&1; then
  cat "$build_log" >&2  # the whole log: a failed build's errors are above its last line
  rm -f "$build_log"
  exit 1
fi
tail -n 1 "$build_log"
rm -f "$build_log"
bin="$root/.build/release"
leadctl="$bin/leadctl"

bash Deploy/broker.sh start "$port"
cleanup() {
  bash "$root/Deploy/pipeline.sh" stop || true
  bash "$root/Deploy/broker.sh" stop "$port" || true
}
trap cleanup EXIT

echo "== topics, account and offer"
"$leadctl" topics create >/dev/null
"$leadctl" account put --file docs/samples/account.json
"$leadctl" offer put --file docs/samples/offer.json

echo "== starting the services"
bash Deploy/pipeline.sh start "$bin"

samples=docs/samples/leads.jsonl
count=$(grep -c . "$samples")
echo "== publishing $count sample leads"
"$leadctl" publish --file "$samples"
for search in $(grep -o '"sourceSearchID":"[^"]*"' "$samples" | cut -d'"' -f4 | sort -u); do
  total=$(grep -c "\"sourceSearchID\":\"$search\"" "$samples")
  "$leadctl" search total --search "$search" --account acct-demo --total "$total"
done

echo "== waiting until all $count leads are in the lead pool"
started=$(date +%s)
"$leadctl" pool tail --from-beginning --count "$count" --timeout 300
echo "== all $count leads ready in $(( $(date +%s) - started ))s"

# lead-0003 has only an X profile: it is scored from its X data (bio role, location), each reason
# naming the platform. lead-0007 asks for scoring only but brings no profile: it runs in full.
for lead in lead-0001 lead-0002 lead-0003 lead-0007; do
  line=$(grep "\"leadID\":\"$lead\"" "$samples")
  name=$(echo "$line" | grep -o '"name":"[^"]*"' | cut -d'"' -f4)
  urls=$(echo "$line" | grep -o '"\(linkedinURL\|xURL\)":"[^"]*"' | cut -d'"' -f4 | paste -sd' ' -)
  mode=$(echo "$line" | grep -o '"mode":"[^"]*"' | cut -d'"' -f4)
  echo
  echo "in : $name, $urls (mode $mode)"
  echo "out:"
  "$leadctl" show "$lead" | sed -n '/^profile:/,/^history:/p' | sed '$d'
done

echo
echo "== no lead scored on an empty profile"
empty=0
for lead in $(grep -o '"leadID":"[^"]*"' "$samples" | cut -d'"' -f4); do
  shown=$("$leadctl" show "$lead")
  if echo "$shown" | grep -q "scores    fit 0, intent 0, timing 0" && echo "$shown" | grep -q "evidence  0% complete"; then
    echo "   $lead: scored 0/0/0 on an empty profile"
    empty=$((empty + 1))
  fi
done
echo "   $empty of $count scored on an empty profile"
echo
echo "== stopping"
