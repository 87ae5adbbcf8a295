#!/usr/bin/env bash
# Turns Deploy/kafka/acls.txt (the trust model of docs/trust.md) into Apache Kafka ACLs: one
# `kafka-acls.sh --add` command per rule, topic and group names prefixed with the namespace the
# services run in, as they prefix them.
#
#   Deploy/kafka/apply-acls.sh [options]           print the commands (review them first)
#   Deploy/kafka/apply-acls.sh --apply [options]   run them
#
# Options:
#   --namespace NS             topic and group prefix `NS.` (default: $PIPELINE_NAMESPACE, else none)
#   --bootstrap-server H:P     (default: $KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092)
#   --command-config FILE      kafka-acls.sh's client properties (the admin's SASL/SSL settings)
#   --principal NAME=PRINCIPAL the principal of a role of acls.txt when it is not User:NAME
#                              (repeatable; e.g. pipeline-coordinator=User:CN=coordinator,O=acme)
#   --file PATH                another rules file (default: acls.txt next to this script)
# KAFKA_ACLS names the kafka-acls.sh to run (default: kafka-acls.sh on PATH).
# The brokers need an authorizer (KRaft: authorizer.class.name=
# org.apache.kafka.metadata.authorizer.StandardAuthorizer) and allow.everyone.if.no.acl.found=false.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
file="$here/acls.txt"
namespace=${PIPELINE_NAMESPACE:-}
bootstrap=${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}
command_config=""
apply=false
kafka_acls=${KAFKA_ACLS:-kafka-acls.sh}
declare -A principals=()

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace=$2; shift 2 ;;
    --bootstrap-server) bootstrap=$2; shift 2 ;;
    --command-config) command_config=$2; shift 2 ;;
    --principal)
      [[ "$2" == *=* ]] || { echo "apply-acls.sh: --principal wants NAME=PRINCIPAL, not '$2'" >&2; exit 2; }
      principals[${2%%=*}]=${2#*=}; shift 2 ;;
    --file) file=$2; shift 2 ;;
    --apply) apply=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "apply-acls.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
prefix=""
[ -n "$namespace" ] && prefix="$namespace."

fail() { echo "apply-acls.sh: $file:$number: $1" >&2; exit 1; }
number=0
while IFS= read -r line || [ -n "$line" ]; do
  number=$((number + 1))
  read -r -a words <<<"${line%%#*}"
  [ ${#words[@]} -eq 0 ] && continue
  [ ${#words[@]} -ge 4 ] || fail "expected PRINCIPAL OPERATION RESOURCE NAME [NAME ...]"
  role=${words[0]} operation=${words[1]} resource=${words[2]}
  names=("${words[@]:3}")
  args=(--bootstrap-server "$bootstrap")
  [ -n "$command_config" ] && args+=(--command-config "$command_config")
  args+=(--add --allow-principal "${principals[$role]:-User:$role}" --operation "$operation")
  case "$resource" in
    topic) for name in "${names[@]}"; do args+=(--topic "$prefix$name"); done ;;
    group) for name in "${names[@]}"; do args+=(--group "$prefix$name"); done ;;
    group-prefix)
      args+=(--resource-pattern-type prefixed)
      for name in "${names[@]}"; do args+=(--group "$prefix$name"); done ;;
    reader-groups)
      [ "${names[*]}" = "reader-" ] || fail "reader-groups takes the name reader-"
      args+=(--resource-pattern-type prefixed --group reader-) ;;
    cluster)
      [ "${names[*]}" = "kafka-cluster" ] || fail "cluster takes the name kafka-cluster"
      args+=(--cluster) ;;
    *) fail "unknown resource '$resource' (topic, group, group-prefix, reader-groups, cluster)" ;;
  esac
  if $apply; then
    "$kafka_acls" "${args[@]}"
  else
    printf '%q' "$kafka_acls"; printf ' %q' "${args[@]}"; printf '\n'
  fi
done <"$file"
