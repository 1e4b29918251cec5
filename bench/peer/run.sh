#!/usr/bin/env bash
# The peer comparison: the same M/M/1 queue and the same producer -> 6
# partitions -> 3 consumers workload in SimPy and in streamsim, on this
# machine, one core each. Installs SimPy 4.1.2 into bench/peer/.venv.
# Usage: bash bench/peer/run.sh [records]   (default 200000)
set -euo pipefail
cd "$(dirname "$0")"
N="${1:-200000}"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet simpy==4.1.2
fi
(cd ../.. && cargo build --release --quiet && cargo build --release --quiet --example mm1_kernel)
BIN=../../target/release/streamsim

# Scale the scenarios to N records.
MM1_SECONDS=$((N / 100))
sed "s/^duration: .*/duration: ${MM1_SECONDS}s/" mm1.yaml > .mm1.yaml
sed "s/messages: [0-9]*/messages: ${N}/; s/^duration: .*/duration: $((N / 10000 + 1))s/" pipeline.yaml > .pipeline.yaml

seconds() { python3 -c 'import sys,time,subprocess; t=time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print(f"{time.perf_counter()-t:.3f}")' "$@"; }

echo "machine: $(uname -srm), $(nproc) cores, $(python3 --version), SimPy 4.1.2"
SIMPY_MM1=$(.venv/bin/python mm1.py "$N")
echo "$SIMPY_MM1"
SIMPY_PIPE=$(.venv/bin/python pipeline.py "$N")
echo "$SIMPY_PIPE"
KERNEL_MM1=$(../../target/release/examples/mm1_kernel $((N * 10)))
echo "$KERNEL_MM1"
T_MM1=$(seconds "$BIN" run .mm1.yaml --json)
T_PIPE=$(seconds "$BIN" run .pipeline.yaml --json)
python3 - "$N" "$T_MM1" "$T_PIPE" "$SIMPY_MM1" "$SIMPY_PIPE" "$KERNEL_MM1" <<'PY'
import re, sys
n, t_mm1, t_pipe = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
rate = lambda s: float(re.search(r"= ([\d,.]+) ", s).group(1).replace(",", ""))
s_mm1, s_pipe, k_mm1 = rate(sys.argv[4]), rate(sys.argv[5]), rate(sys.argv[6])
print(f"kernel vs SimPy on M/M/1 (the same model): {k_mm1 / s_mm1:.0f}x")
print(f"full Kafka model, M/M/1 scenario: {n} records in {t_mm1:.2f} s = {n / t_mm1:,.0f} records/s -> {n / t_mm1 / s_mm1:.0f}x SimPy's bare queue")
print(f"full Kafka model, pipeline: {n} records in {t_pipe:.2f} s = {n / t_pipe:,.0f} records/s -> {n / t_pipe / s_pipe:.0f}x SimPy's toy pipeline")
PY
rm -f .mm1.yaml .pipeline.yaml
