#!/usr/bin/env bash
# All GPU checks in one call on a lent CUDA machine (device time is scarce): meters + MFU, FLOP counts on CUDA,
# compressed variants. Each step has its own time limit and cannot stop the next. Results land in $OUT.
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"; export OUT
nvidia-smi --query-gpu=name,power.limit,power.draw,clocks.sm --format=csv | tee "$OUT/nvidia_smi.csv"
python3 -c "import torch, pynvml; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
echo "== meters";   timeout 120 python3 scripts/gpu_check_meters.py 2>&1 | tee "$OUT/meters.log"
echo "== flops";    timeout 100 python3 scripts/gpu_check_flops.py 2>&1 | tee "$OUT/flops.log"
echo "== compress"; timeout 120 python3 scripts/gpu_check_compress.py 2>&1 | tee "$OUT/compress.log"
echo "== done"
