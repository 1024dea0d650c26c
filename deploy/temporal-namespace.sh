#!/bin/sh
# Waits until the Temporal frontend says it is serving, then creates signoff's
# namespace unless it exists, then exits. Run by the `temporal-namespace` job
# of docker-compose.yml in temporalio/admin-tools, whose `temporal` CLI reads
# TEMPORAL_ADDRESS. Safe to run again. The server image has no client to ask
# it whether it serves (its health check only sees the port open), so the
# worker and the web service wait for this job, not only for that check.
# As Temporal's own compose does: samples-server compose/scripts/create-namespace.sh.
set -eu

namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${TEMPORAL_NAMESPACE_RETENTION:-7d}"
attempts="${SETUP_ATTEMPTS:-60}"
pause="${SETUP_PAUSE_SECONDS:-2}"

attempt=1
until temporal operator cluster health; do
  if [ "$attempt" -ge "$attempts" ]; then
    echo "temporal-namespace: Temporal at ${TEMPORAL_ADDRESS:-?} is not serving after $attempts attempts" >&2
    exit 1
  fi
  echo "temporal-namespace: waiting for Temporal at ${TEMPORAL_ADDRESS:-?} ($attempt/$attempts)"
  attempt=$((attempt + 1))
  sleep "$pause"
done

attempt=1
until temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$namespace" --retention "$retention"; do
  if [ "$attempt" -ge "$attempts" ]; then
    echo "temporal-namespace: could not create namespace $namespace" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep "$pause"
done
echo "temporal-namespace: namespace $namespace is there"
