#!/usr/bin/env bash
# The one GPU validation run for the CUDA backend (see /work/shared/device/FACTS.md).
#
# Here, on the machine without a GPU, from the project root:
#   npx tsc -p tsconfig.json && ../shared/device/stage.sh     # dist/ + .device/ (Node, node_modules)
# then one device call:
#   run  command: "bash scripts/gpu-check.sh"   carry: [".device", "dist"]   timeout_s: 420
# There it: builds the addon and libignis_cuda.so for sm_90 only (fast), runs the CUDA tests, the
# GPU benchmark side by side with PyTorch, the profiler's device check (scripts/gpu-profile-check.mjs),
# the seed CNN step's host time with a V8 CPU profile of the steady steps (scripts/gpu-seed-steps.mjs)
# and under each convolution-path setting (scripts/gpu-seed-ab.mjs),
# compute-sanitizer memcheck over scripts/gpu-smoke.mjs, then the rest of the test suite; each step
# has its own time limit so the run stays under
# 6 minutes; the last lines are a short table. Full logs land in $OUT (copied back by the tool).
# A dry run without a GPU, on the host CUDA emulator (everything but the build and compute-sanitizer):
#   node scripts/cuda-emu.mjs build && IGNIS_CUDA_EMU=1 IGNIS_CUDA_LIB=$PWD/build-emu/libignis_cuda_emu.so \
#     LD_LIBRARY_PATH=$PWD/build-emu/driver GPU_CHECK_SKIP_BUILD=1 OUT=/tmp/gc bash scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/ignis-gpu-check}
mkdir -p "$OUT"
[ -f .device/env.sh ] || { echo "gpu-check: .device/env.sh missing: run the device stage.sh first and carry .device"; exit 2; }
# shellcheck disable=SC1091
source .device/env.sh
[ -f dist/index.js ] || { echo "gpu-check: dist/ missing: run npx tsc here and carry dist"; exit 2; }
export CUDACXX=${CUDACXX:-/usr/local/cuda/bin/nvcc} CUDA_PATH=${CUDA_PATH:-/usr/local/cuda}
export PATH=$PATH:/usr/local/cuda/bin  # compute-sanitizer
export NO_COLOR=1 FORCE_COLOR=0  # plain logs, so the summary greps match
NODE=node
VITEST="node node_modules/vitest/vitest.mjs"
START=$SECONDS
declare -a SUMMARY

# step NAME LIMIT_S CMD...: runs with a time limit, log to $OUT/NAME.log, tail on stdout
step() {
  local name=$1 limit=$2
  shift 2
  local t=$SECONDS
  echo "=== $name (limit ${limit}s)"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  tail -n "${TAIL:-15}" "$OUT/$name.log"
  SUMMARY+=("$(printf '%-14s rc=%-3s %4ss' "$name" "$rc" "$((SECONDS - t))")")
  return $rc
}

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "no nvidia-smi"; } | tee "$OUT/gpu.txt"
# GPU_CHECK_SKIP_BUILD=1 reuses build/ (a dry run of this script on a machine without a GPU)
if [ "${GPU_CHECK_SKIP_BUILD:-0}" = 1 ]; then
  echo "=== build skipped (GPU_CHECK_SKIP_BUILD=1)"
elif ! step build 120 node node_modules/cmake-js/bin/cmake-js compile -p 16 --CDIGNIS_CUDA_ARCHS=90; then
  grep -E "error|ignis:" "$OUT/build.log" | head -20
fi
ls -la build/Release/ 2>/dev/null | grep -E "ignis|cuda" || true
$NODE -e "const i=require('./dist');console.log('cuda available:',i.cuda.isAvailable(),i.cuda.unavailableReason()||i.cuda.versions())" | tee "$OUT/status.txt"

# what is left of the 6-minute budget (345 s, a margin for the tool), at least `min` seconds
left() { local l=$((345 - (SECONDS - START))); [ "$l" -lt "$1" ] && l=$1; [ "$l" -gt "$2" ] && l=$2; echo "$l"; }
# IGNIS_CUDNN_GRAPH_LOG: which conv + bias + activation graphs cuDNN took (engine, build ms) or declined
# (why). A graph plan may compile with NVRTC on first use (seconds), hence the longer test step; the
# bench comes next so its figures survive a slow later step.
TAIL=25 IGNIS_CUDNN_GRAPH_LOG=1 step cuda-tests "$(left 30 120)" $VITEST run test/cuda --testTimeout=60000
TAIL=12 IGNIS_CUDNN_GRAPH_LOG=1 step bench "$(left 30 100)" $NODE bench/gpu/cuda.bench.mjs
# the profiler's kernel times against an independent timing (10%), and the seed CNN step's kernel mix
TAIL=45 step profile "$(left 20 45)" $NODE scripts/gpu-profile-check.mjs
# the seed CNN step's host side: ms per step, V8's collections per step, a V8 CPU profile of the
# timed steps alone (host.cpuprofile: no start-up, no plan builds), and the library's own host-time
# tally (IGNIS_CUDA_HOST_TIMES: cuDNN / cuBLAS calls, launches, allocator)
TAIL=4 IGNIS_CUDA_HOST_TIMES=1 step host "$(left 15 40)" $NODE scripts/gpu-seed-steps.mjs 100 --profile "$OUT/host.cpuprofile"
# the same step under the settings that choose each convolution's cuDNN path (graphs or legacy
# calls, heuristics or autotuned) and with fused ReLU layers, in one process
TAIL=2 step seed-ab "$(left 10 30)" $NODE scripts/gpu-seed-ab.mjs
TAIL=60 step memcheck "$(left 30 75)" compute-sanitizer --tool memcheck --leak-check no --error-exitcode 7 $NODE scripts/gpu-smoke.mjs
# the rest of the suite on this machine (test/cuda ran above); GPU_CHECK_SKIP_FULL=1 leaves it out (a
# rerun that checks only the GPU side, when device time is short)
if [ "${GPU_CHECK_SKIP_FULL:-0}" = 1 ]; then
  echo "=== full-suite skipped (GPU_CHECK_SKIP_FULL=1)" | tee "$OUT/full-suite.log"
else
  TAIL=12 step full-suite "$(left 15 90)" $VITEST run --testTimeout=60000 --exclude 'test/cuda/**'
fi

echo
echo "=== gpu-check summary ($((SECONDS - START))s total; logs in $OUT)"
cat "$OUT/gpu.txt" "$OUT/status.txt"
printf '%s\n' "${SUMMARY[@]}"
grep -E "Tests +[0-9]" "$OUT/cuda-tests.log" | sed 's/^/cuda-tests: /' | tail -1
grep -E "Tests +[0-9]" "$OUT/full-suite.log" | sed 's/^/full-suite: /' | tail -1
# which tests failed, and the first line of why (the logs come back only as logs.tgz). Known on the
# device machine, not failures of the library: the `--require x.ts` test (stage.sh leaves TypeScript
# out of node_modules) and the report-in-Chromium test (no Chromium there)
for f in cuda-tests full-suite; do
  grep -E -A1 "^ FAIL " "$OUT/$f.log" | grep -v "^--" | cut -c1-240 | sed "s/^/$f: /" | head -12
done
grep -E "ERROR SUMMARY|gpu-smoke:" "$OUT/memcheck.log" | tail -2
grep -E "expression activation: first CUDA use" "$OUT/cuda-tests.log" | tail -1 || true  # NVRTC compile + load cost
grep -E "^(FAIL|ok   agreement)|^gpu-profile-check:" "$OUT/profile.log" || true
for f in cuda-tests bench; do
  echo "cuDNN graph plans in $f: $(grep -c 'cuDNN graph .*built in' "$OUT/$f.log") built, $(grep -c 'cuDNN graph .*declined' "$OUT/$f.log") declined, $(grep -c 'cuDNN graph .*not tried' "$OUT/$f.log") not tried (no engine on an earlier shape), $(grep -c 'failed to execute' "$OUT/$f.log") failed to run, $(grep -c 'disagrees with the unfused path' "$OUT/$f.log") disagreed with the unfused path"
done
grep -m 4 -E "cuDNN graph .*(built in|declined|failed)" "$OUT/bench.log" || true
# a graph whose first call's output differed from the unfused path's (not used): an engine or a
# composed activation that computes something else
grep -h -m 6 "disagrees with the unfused path" "$OUT/cuda-tests.log" "$OUT/bench.log" | cut -c1-240 || true
# the composed activations (mish, elu) in the bench: built, declined, or their first-call verdicts
grep -h -m 8 -E "cuDNN graph .*activation (3|10)[,:( ]" "$OUT/bench.log" | cut -c1-240 || true
# the seed CNN's convolutions (batch 256): each plan's first call, graph against unfused path, device
# and host ms per call (where a host-bound step's cuDNN time goes, per call and engine)
grep -h -E "input \[256, (3, 32, 32|32, 15, 15|64, 6, 6)\].*first call" "$OUT/bench.log" | sed 's/^ignis: cuDNN graph for //' | cut -c1-230 | head -12 || true
grep -E "^SUMMARY" "$OUT/bench.log" || true
grep -E "^(copy|act_fwd/(relu|gelu|mish|softplus)|act_bwd/(relu|gelu)|conv(_fp32)?/r50_3x3_56/(none|relu|gelu)|matmul|launch|conv_train|linear_act|bn_|optim|seed_cnn)" "$OUT/bench.log" || true
grep -E "^gpu-seed-steps" "$OUT/host.log" || true
grep -E "^gpu-seed-ab" "$OUT/seed-ab.log" || true
grep -A 14 "^ignis host times" "$OUT/host.log" || true
# the tool brings back 8 files: the logs travel as one archive (tar xzf logs.tgz)
(cd "$OUT" && tar czf logs.tgz --remove-files ./*.log ./*.txt 2>/dev/null) || true
ls "$OUT"
