#!/usr/bin/env bash
# The same split on one machine with GNU parallel: 4 workers, worker K takes shard K/4 of the
# batch and writes node_exporter textfile-collector files (rename when complete, so the
# collector never reads half a file).
#   deploy/parallel.sh addresses.txt /var/lib/node_exporter/textfile_collector
set -euo pipefail
batch=${1:?usage: parallel.sh BATCH-FILE OUT-DIR}
out=${2:?usage: parallel.sh BATCH-FILE OUT-DIR}
parallel -j4 "mailprobe check --batch $batch --shard {}/4 --format openmetrics > $out/mailprobe-{}.prom.tmp; mv $out/mailprobe-{}.prom.tmp $out/mailprobe-{}.prom" ::: 0 1 2 3
