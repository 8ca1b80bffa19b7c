# RUN: rm -rf %t && mkdir -p %t
# The compile flow is a library pass pipeline: parc-opt runs it on the imported module as
# --parc-compile-pipeline with parc-compile's flags as options, and prints the same per-rank
# programs, byte for byte, as parc-compile --emit=partitioned with those flags (inference
# with tp x pp, dp, interleaved stages; training with dp x tp x pp, recomputation, ZeRO-1).
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --batch 4
# RUN: parc-compile %t/gpt2.onnx --emit=parc --print-weights-up-to=1000000000 -o %t/gpt2.mlir
# RUN: %python %s %t "--tp=2 --pp=2 --microbatches=2" "--dp=2" \
# RUN:   "--pp=2 --virtual-stages=2 --microbatches=2" "--tp=2 --emit=fused" \
# RUN:   "--train --optimizer=adamw --lr=0.01 --dp=2 --tp=2 --pp=2" \
# RUN:   "--train --recompute=selective --pp=2 --microbatches=2" \
# RUN:   "--train --dp=2 --zero=1 --optimizer=sgd --momentum=0.9" | FileCheck %s
# CHECK: --tp=2 --pp=2 --microbatches=2: identical
# CHECK: --dp=2: identical
# CHECK: --pp=2 --virtual-stages=2 --microbatches=2: identical
# CHECK: --tp=2 --emit=fused: identical
# CHECK: --train --optimizer=adamw --lr=0.01 --dp=2 --tp=2 --pp=2: identical
# CHECK: --train --recompute=selective --pp=2 --microbatches=2: identical
# CHECK: --train --dp=2 --zero=1 --optimizer=sgd --momentum=0.9: identical
#
# Options are checked once, for both tools, with the same message.
# RUN: not parc-opt %t/gpt2.mlir --parc-compile-pipeline="train dp=2 zero=2" 2>&1 | FileCheck %s --check-prefix=OPT
# OPT: error: --zero=2: only 0 and 1 are supported
# RUN: not parc-compile %t/gpt2.onnx --train --dp=2 --zero=2 -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=DRIVER
# DRIVER: parc-compile: error: --zero=2: only 0 and 1 are supported
# RUN: not parc-opt %t/gpt2.mlir --parc-compile-pipeline="emit=artifact" 2>&1 | FileCheck %s --check-prefix=EMIT
# EMIT: error: emit=artifact: expected parc, partitioned, fused or planned
import subprocess
import sys

work, layouts = sys.argv[1], sys.argv[2:]
for flags in layouts:
    words = flags.split()
    emit = next((w.split("=")[1] for w in words if w.startswith("--emit=")), "partitioned")
    compiled = subprocess.run(["parc-compile", work + "/gpt2.onnx", "--emit=" + emit,
                               "--print-weights-up-to=1000000000", "-o", "-"]
                              + [w for w in words if not w.startswith("--emit=")],
                              capture_output=True, text=True, check=True).stdout
    options = " ".join(w[2:] for w in words)
    piped = subprocess.run(["parc-opt", work + "/gpt2.mlir",
                            "--parc-compile-pipeline=" + options],
                           capture_output=True, text=True, check=True).stdout
    print("%s: %s (%d lines)" % (flags, "identical" if compiled == piped else "DIFFERENT",
                                 compiled.count("\n")))
