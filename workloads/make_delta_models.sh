#!/usr/bin/env bash
# Prune + fine-tune the trained dense GRU into the shipped DeltaGRU models (delta thresholds are
# chosen at evaluation, not here). 50 % and the first pass of 80 % start from the dense model and
# run in parallel (one thread each); 80 % then trains longer, and 90 % starts from it.
# Usage: workloads/make_delta_models.sh DENSE_GRU.npz [STEPS_PER_STAGE]   (PTB from $ACCELSIM_PTB)
set -euo pipefail
DENSE=${1:?dense GRU model .npz}
STEPS=${2:-100}
PY=${PYTHON:-python}
M=workloads/models
mkdir -p runs/prune-gru "$M"
cp "$DENSE" "$M/deltagru-ptb-w0.npz"
prune() {  # name stages [base] [steps per stage] [seed]
  local name=$1 stages=$2 base=${3:-$M/deltagru-ptb-w0.npz} steps=${4:-$STEPS} seed=${5:-1}
  local t0=$(date +%s)
  $PY -m accelsim.workloads.prune --base "$base" --stages "$stages" \
      --steps-per-stage "$steps" --method unstructured --seed "$seed" --name "$name" --out "$M/$name.npz" \
      --log runs/prune-gru/log.jsonl > "runs/prune-gru/$name.out" 2>&1
  echo "$name: $(( $(date +%s) - t0 )) s" | tee -a runs/prune-gru/times.txt
}
prune deltagru-ptb-w50 0.3,0.5 &
prune deltagru-ptb-w80 0.5,0.7,0.8 &
wait
# 80 %: 360 more steps at 80 %, so that its fine-tuning adds up to the EGRU chain's (600 steps
# from dense to 80 %); the first pass lost 60 perplexity points on validation.
mkdir -p runs
mv "$M/deltagru-ptb-w80.npz" runs/deltagru-ptb-w80-stage1.npz
prune deltagru-ptb-w80 0.8 runs/deltagru-ptb-w80-stage1.npz 360 2
# 90 %: from the 80 % model, as the EGRU chain (0.85, 0.9; 200 steps per stage). A first 90 %
# model pruned from the dense GRU in four 80-step stages reached validation perplexity 579.9.
prune deltagru-ptb-w90 0.85,0.9 "$M/deltagru-ptb-w80.npz" 200 1
