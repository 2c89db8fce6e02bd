#!/usr/bin/env bash
# Images/s and peak memory of every method on a GPU: eager, --amp,
# --compile and both, on the CIFAR-10 benchmark configs with synthetic
# data; one table (benchmarks/gpu_check.py). Stops after 8 minutes; the
# rows measured by then are already printed.
#
#   bash benchmarks/gpu_check.sh [gpu_check.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
if ! "$PYTHON" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'; then
    echo "gpu_check.sh: no GPU visible to torch; for a CPU check of the" \
         "code run: $PYTHON benchmarks/gpu_check.py --smoke" >&2
    exit 2
fi
exec timeout 480 "$PYTHON" benchmarks/gpu_check.py "$@"
