#!/usr/bin/env bash
# Lead-pool matching, two builds side by side on one broker: a pool of POOL_LEADS (30,000)
# synthetic leads put through the pipeline of NEW_BIN, then three offers (the sample's under two
# ids and a broad one); per round, profile-finder of each build alone until it has matched them
# (CPU from /proc, VmHWM) and `leadctl pool match --dry-run` of one offer (/usr/bin/time).
#   bash Benchmarks/pool-match-compare.sh OLD_BIN NEW_BIN     (release directories, e.g. .build/release)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source Deploy/env.sh
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
POOL_LEADS=${POOL_LEADS:-30000}
work=$(mktemp -d)
port=$(free_port)
export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$port" PIPELINE_NAMESPACE=pb SIM_LATENCY_SCALE=0 LOG_LEVEL=warning KAFKA_PROPERTY_LOG__LEVEL=3
bash Deploy/broker.sh start "$port"
trap 'bash Deploy/pipeline.sh stop || true; bash Deploy/broker.sh stop '"$port"' || true' EXIT
$NEW/leadctl topics create >/dev/null
$NEW/leadctl account put --file docs/samples/account.json
$NEW/leadctl offer put --file docs/samples/offer.json
bash Deploy/pipeline.sh start "$NEW"
$NEW/leadctl publish --synthetic "$POOL_LEADS" --account acct-demo --offer offer-demo --search pb-1 >/dev/null
$NEW/leadctl pool tail --from-beginning --count "$POOL_LEADS" --timeout 1200 >/dev/null
echo "pool filled: $(date)"
bash Deploy/pipeline.sh stop
# Two more offers: the sample's ICP under another id, and a broad one.
sed 's/"offer-demo"/"offer-b"/' docs/samples/offer.json > $work/offer-b.json
python3 - "$work/offer-c.json" <<'PY'
import json, sys
o=json.load(open('docs/samples/offer.json'))
o['offerID']='offer-c'; o['icp']['titles']=[]; o['icp']['industries']=[]; o['icp']['locations']=[]
o['icp'].pop('minimumEmployees',None); o['icp'].pop('maximumEmployees',None)
json.dump(o,open(sys.argv[1],'w'))
PY
$NEW/leadctl offer put --file $work/offer-b.json
$NEW/leadctl offer put --file $work/offer-c.json
finder() {  # $1 bin dir, $2 label
  local log=$work/finder-$2.log
  LOG_LEVEL=info METRICS_PORT=0 "$1/profile-finder" > "$log" 2>&1 &
  local pid=$! start=$(date +%s.%N)
  for _ in $(seq 1200); do
    [ "$(grep -c 'offer matched against the pool' "$log" || true)" -ge 3 ] && break
    sleep 0.25
  done
  local end=$(date +%s.%N)
  local hwm=$(grep VmHWM /proc/$pid/status | awk '{print $2}')
  local cpu=$(awk '{print ($14+$15)/100}' /proc/$pid/stat)
  kill -TERM $pid; wait $pid || true
  echo "finder $2: VmHWM ${hwm} kB, CPU ${cpu} s, wall $(echo "$end - $start" | bc) s; $(grep 'offer matched' "$log" | grep -o '[0-9]* scoring-only leads published' | paste -sd, -)"
}
leadctl_run() {  # $1 bin dir, $2 label
  /usr/bin/time -f "leadctl $2: VmHWM %M kB, CPU %U+%S s, wall %e s" "$1/leadctl" pool match --offer offer-b --dry-run 2>"$work/leadctl-$2.err" >"$work/leadctl-$2.out" || true
  tail -1 "$work/leadctl-$2.err"; tail -2 "$work/leadctl-$2.err" | head -1
}
for round in 1 2; do
  finder "$OLD" old-$round; finder "$NEW" new-$round
  leadctl_run "$OLD" old-$round; leadctl_run "$NEW" new-$round
done
