# REQUIRES: nvrtc
# UNSUPPORTED: cuda-driver
# RUN: rm -rf %t && mkdir -p %t/bundle/bin && cp %parc_bin/parc-run %t/bundle/bin/
# The GPU machine's first-contact script (scripts/gpu-check.sh, issue 21 item 4) checked
# without a GPU, on parc-run's CUDA emulator, with a bundle of six cases: eight steps in
# order, one line each, and a failing step (here: no NVIDIA driver) does not stop the
# others. The exit status says a step failed.
# RUN: %python %pylib/gpu_models.py prepare %t/bundle/models --cases gpt2,gpt2-tp2,gpt2-pp2,repro-a-h768,repro-b-norms,repro-f-f16-1x7
# RUN: not env PYTHON=%python PARC_GPU_BUNDLE=%t/bundle OUT=%t/out bash %src/scripts/gpu-check.sh --emulate | FileCheck %s
# CHECK: == gpu-check {{.*}} (the CUDA emulator)
# CHECK-NEXT: gpu-check [1/8] driver: skipped: --emulate
# CHECK-NEXT: gpu-check [2/8] libraries: FAIL: NVIDIA driver: not found
# CHECK-NEXT: gpu-check [3/8] memcheck: skipped: --emulate
# CHECK-NEXT: gpu-check [4/8] graphs: ok: gpu_models: graphs: 2 runs replayed a CUDA graph of 3, error {{.*}}; profile: {{[1-9][0-9]*}} instructions
# CHECK-NEXT: gpu-check [5/8] repros: ok: gpu_models: 3 of 3 cases match the CPU backend
# CHECK-NEXT: gpu-check [6/8] determinism: ok: gpu_models: gpt2-tp2 3 runs identical; gpt2-pp2 3 runs identical
# CHECK-NEXT: gpu-check [7/8] models: ok: gpu_models: 6 of 6 cases match the CPU backend
# CHECK-NEXT: gpu-check [8/8] benchmark: skipped: --emulate
# CHECK-NEXT: == gpu-check: a step FAILED; logs in {{.*}}out
# RUN: FileCheck %s --check-prefix=LOG < %t/out/repros.log
# LOG: PASS repro-a-h768: relative L2 error
# LOG: PASS repro-b-norms: relative L2 error
# LOG: PASS repro-f-f16-1x7: relative L2 error
#
# The memcheck step, with stand-ins for compute-sanitizer: one that runs the command and
# reports no error, and one that reports errors (its --error-exitcode).
# RUN: printf '#!/bin/sh\nshift 6\n"$@"\necho "========= ERROR SUMMARY: 0 errors"\n' > %t/clean-sanitizer
# RUN: printf '#!/bin/sh\necho "========= ERROR SUMMARY: 2 errors"\nexit 99\n' > %t/dirty-sanitizer
# RUN: chmod +x %t/clean-sanitizer %t/dirty-sanitizer
# RUN: %python %pylib/gpu_models.py sanitize %t/bundle/models --case gpt2 --sanitizer %t/clean-sanitizer --parc-run %t/bundle/bin/parc-run --emulate | FileCheck %s --check-prefix=CLEAN
# CLEAN: gpu_models: memcheck gpt2: ERROR SUMMARY: 0 errors, error {{[0-9.]+e[-+][0-9]+}}
# RUN: not %python %pylib/gpu_models.py sanitize %t/bundle/models --case gpt2 --sanitizer %t/dirty-sanitizer --parc-run %t/bundle/bin/parc-run --emulate | FileCheck %s --check-prefix=DIRTY
# DIRTY: gpu_models: FAIL memcheck gpt2: ERROR SUMMARY: 2 errors, error inf
