# RUN: rm -rf %t && mkdir -p %t
# Pipeline options that cannot work are clear errors naming the flag, and leave no artifact.
# RUN: %python %models/make_model.py mlp %t/mlp.onnx --batch 4
# A batch that the microbatches do not divide.
# RUN: not parc-compile %t/mlp.onnx --pp=2 --microbatches=3 -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=DIVIDE
# DIVIDE: error: {{.*}}--microbatches=3 does not divide the batch of 4 (dim 0 of input 'input')
# More stages than the graph has ops with work.
# RUN: not parc-compile %t/mlp.onnx --pp=64 -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=STAGES
# STAGES: error: {{.*}}cannot cut {{[0-9]+}} ops with work into 64 pipeline stages
# RUN: not parc-compile %t/mlp.onnx --pp=2 --schedule=zigzag -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=SCHEDULE
# SCHEDULE: error: {{.*}}--schedule=zigzag: expected gpipe or 1f1b
# RUN: not parc-compile %t/mlp.onnx --pp=2 --virtual-stages=2 --schedule=gpipe -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=INTERLEAVE
# INTERLEAVE: error: {{.*}}--virtual-stages=2 needs --schedule=1f1b (interleaved 1F1B)
# RUN: not parc-compile %t/mlp.onnx --pp=2 --virtual-stages=2 --microbatches=1 -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=MULTIPLE
# MULTIPLE: error: {{.*}}--virtual-stages=2 needs --microbatches to be a multiple of --pp=2 (got 1)
# RUN: not parc-compile %t/mlp.onnx --pp=0 -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=ZERO
# ZERO: error: {{.*}}--pp=0: expected a positive number
# RUN: not parc-compile %t/mlp.onnx --pp=2 --memory-limit=lots -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=SIZE
# SIZE: error: {{.*}}--memory-limit=lots: expected a size such as 512MiB or 2GB
# RUN: not parc-compile %t/mlp.onnx --pp=2 --memory-limit=1KiB -o %t/a.parc 2>&1 | FileCheck %s --check-prefix=FIT
# FIT: error: {{.*}}the weights do not fit into 2 pipeline stages under the memory limit of 1024 bytes per stage
# RUN: not ls %t/a.parc
