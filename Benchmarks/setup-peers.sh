#!/usr/bin/env bash
# Prepares the Python peers that `pipeline-bench --scenario h` runs beside the project: a venv
# at .venv-peers (under the project root) with confluent-kafka from PyPI. The peers' code stays
# where it is (../shared/peers by default); nothing of it is copied here.
#   Benchmarks/setup-peers.sh          create the venv (or reuse it) and install confluent-kafka
# Idempotent: a second run checks the import and returns.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv-peers"
python=${PYTHON:-python3}

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import confluent_kafka' 2>/dev/null; then
  echo "setup-peers: $venv already has confluent-kafka $("$venv/bin/python" -c 'import confluent_kafka; print(confluent_kafka.__version__)')" >&2
  exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check confluent-kafka
echo "setup-peers: $venv ready (confluent-kafka $("$venv/bin/python" -c 'import confluent_kafka; print(confluent_kafka.__version__)'))" >&2
