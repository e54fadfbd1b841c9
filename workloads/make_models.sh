#!/usr/bin/env bash
# Prune + fine-tune the trained dense EGRU into the shipped models.
# Usage: workloads/make_models.sh DENSE_MODEL.npz [STEPS_PER_STAGE] [ACTIVITY_WEIGHT] [HOLD_MARGIN]
# (PTB from $ACCELSIM_PTB). Every fine-tune holds each layer's activity at the dense model's
# (--hold-activity), with the regulariser weight ACTIVITY_WEIGHT (default 5) and the targets
# HOLD_MARGIN (default 0.01) below the dense model's training-mode activity.
# Sequential, one thread each. Logs go to runs/prune/. See workloads/README.md for the record.
set -euo pipefail
DENSE=${1:?dense model .npz}
STEPS=${2:-150}
WEIGHT=${3:-5}
MARGIN=${4:-0.01}
PY=${PYTHON:-python}
M=workloads/models
mkdir -p runs/prune "$M"
cp "$DENSE" "$M/egru-ptb-w0.npz"
prune() {  # name base stages method [steps per stage] [activity weight]
  local name=$1 base=$2 stages=$3 method=$4 steps=${5:-$STEPS} weight=${6:-$WEIGHT}
  local t0=$(date +%s)
  $PY -m accelsim.workloads.prune --base "$base" --stages "$stages" --steps-per-stage "$steps" \
      --method "$method" --groups 16 --seed 1 --name "$name" --out "$M/$name.npz" \
      --hold-activity "$M/egru-ptb-w0.npz" --hold-margin "$MARGIN" --activity-weight "$weight" \
      --log runs/prune/log.jsonl > "runs/prune/$name.out" 2>&1
  echo "$name: $(( $(date +%s) - t0 )) s" | tee -a runs/prune/times.txt
}
prune egru-ptb-w50   "$M/egru-ptb-w0.npz"  0.3,0.5      unstructured
prune egru-ptb-w70   "$M/egru-ptb-w50.npz" 0.6,0.7      unstructured
prune egru-ptb-w80   "$M/egru-ptb-w70.npz" 0.75,0.8     unstructured
# 90 %: twice the steps and four times the regulariser weight (with the defaults, layer 2 lost
# 5 points of activity sparsity: workloads/README.md)
prune egru-ptb-w90   "$M/egru-ptb-w80.npz" 0.85,0.9     unstructured 200 20
prune egru-ptb-cb80  "$M/egru-ptb-w0.npz"  0.5,0.7,0.8  column-balanced
