# RUN: rm -rf %t && mkdir -p %t
# Training on one CPU rank reproduces PyTorch's loss trajectory from the same initial
# weights and batches (relative error per step at most 1e-4; f32): GPT-2 with
# cross-entropy for 10 SGD steps (momentum, weight decay) and 10 AdamW steps, and the MLP
# with mean squared error.
# RUN: %python %models/train_reference.py gpt2 %t/sgd --steps 10 --optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 0.01
# RUN: parc-compile %t/sgd/model.onnx --train --loss=cross_entropy --optimizer=sgd --lr=0.1 --momentum=0.9 --weight-decay=0.01 -o %t/sgd.parc
# RUN: parc-run %t/sgd.parc --steps 10 --input input_ids=%t/sgd/input_ids.npy --input labels=%t/sgd/labels.npy --output-dir %t/sgd-out > %t/sgd.txt
# RUN: %python %pylib/compare_losses.py %t/sgd.txt %t/sgd/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=SGD
# SGD: step 0: {{.*}} ok
# SGD: step 9: {{.*}} ok
# RUN: %python %models/train_reference.py gpt2 %t/adamw --steps 10 --optimizer adamw --lr 0.01 --weight-decay 0.01
# RUN: parc-compile %t/adamw/model.onnx --train --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/adamw.parc
# RUN: parc-run %t/adamw.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/adamw-out > %t/adamw.txt
# RUN: %python %pylib/compare_losses.py %t/adamw.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=ADAMW
# ADAMW: step 9: {{.*}} ok
# RUN: %python %models/train_reference.py mlp %t/mlp --steps 5 --optimizer sgd --lr 0.05
# RUN: parc-compile %t/mlp/model.onnx --train --loss=mse --optimizer=sgd --lr=0.05 -o %t/mlp.parc
# RUN: parc-run %t/mlp.parc --steps 5 --input input=%t/mlp/input.npy --input labels=%t/mlp/labels.npy --output-dir %t/mlp-out > %t/mlp.txt
# RUN: %python %pylib/compare_losses.py %t/mlp.txt %t/mlp/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=MLP
# MLP: step 4: {{.*}} ok
#
# Data parallelism: --dp=2 gives each rank one row of the global batch of 2 and averages
# the loss and gradients over the two ranks; the losses are PyTorch's on the global batch.
# RUN: parc-compile %t/sgd/model.onnx --train --dp=2 --optimizer=sgd --lr=0.1 --momentum=0.9 --weight-decay=0.01 -o %t/sgd-dp2.parc --report | FileCheck %s --check-prefix=MESH
# MESH: target: cpu, 2 ranks
# MESH: mesh: dp=2 pp=1 tp=1
# RUN: parc-run %t/sgd-dp2.parc --steps 10 --input input_ids=%t/sgd/input_ids.npy --input labels=%t/sgd/labels.npy --output-dir %t/sgd-dp2-out > %t/sgd-dp2.txt
# RUN: %python %pylib/compare_losses.py %t/sgd-dp2.txt %t/sgd/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=SGD
# The training contract's command line has no --output-dir: the losses are all a run
# writes (to stdout), and its ranks meet in the temporary directory, leaving nothing there.
# RUN: rm -rf %t/tmp && mkdir -p %t/tmp
# RUN: env TMPDIR=%t/tmp parc-run %t/sgd-dp2.parc --steps=10 --input input_ids=%t/sgd/input_ids.npy --input labels=%t/sgd/labels.npy > %t/sgd-dp2-nodir.txt
# RUN: %python %pylib/compare_losses.py %t/sgd-dp2-nodir.txt %t/sgd/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=SGD
# RUN: %python -c "import os, sys; left = os.listdir(sys.argv[1]); sys.exit('left behind: %%s' %% left if left else 0)" %t/tmp
# RUN: parc-compile %t/adamw/model.onnx --train --dp=2 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/adamw-dp2.parc
# RUN: parc-run %t/adamw-dp2.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/adamw-dp2-out > %t/adamw-dp2.txt
# RUN: %python %pylib/compare_losses.py %t/adamw-dp2.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=ADAMW
# Gradient buckets of 64 KiB (13 all-reduces started during the backward pass, run by the
# dp group's background thread) and one blocking all-reduce per gradient (--bucket-size=0)
# train to the same losses.
# RUN: parc-compile %t/adamw/model.onnx --train --dp=2 --bucket-size=64KiB --optimizer=adamw --lr=0.01 --weight-decay=0.01 --emit=partitioned -o - | FileCheck %s --check-prefix=BUCKETS
# BUCKETS-COUNT-13: parc.all_reduce_start
# RUN: parc-compile %t/adamw/model.onnx --train --dp=2 --bucket-size=64KiB --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/buckets.parc
# RUN: parc-run %t/buckets.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/buckets-out > %t/buckets.txt
# RUN: %python %pylib/compare_losses.py %t/buckets.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=ADAMW
# RUN: parc-compile %t/adamw/model.onnx --train --dp=2 --bucket-size=0 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/blocking.parc
# RUN: parc-run %t/blocking.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/blocking-out > %t/blocking.txt
# RUN: %python %pylib/compare_losses.py %t/blocking.txt %t/buckets.txt --exact | FileCheck %s --check-prefix=SAMEDP
# SAMEDP: step 9: {{.*}} identical
# RUN: not parc-compile %t/adamw/model.onnx --train --dp=2 --bucket-size=lots -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=BUCKETBAD
# BUCKETBAD: error: --bucket-size=lots: expected a size such as 25MiB, or 0
#
# Tensor parallelism: --tp=2 trains the Megatron-partitioned GPT-2 (the backward of every
# collective is its conjugate; replicated inputs of column-parallel matmuls get their
# gradient all-reduced) to PyTorch's losses.
# RUN: parc-compile %t/sgd/model.onnx --train --tp=2 --optimizer=sgd --lr=0.1 --momentum=0.9 --weight-decay=0.01 -o %t/sgd-tp2.parc
# RUN: parc-run %t/sgd-tp2.parc --steps 10 --input input_ids=%t/sgd/input_ids.npy --input labels=%t/sgd/labels.npy --output-dir %t/sgd-tp2-out > %t/sgd-tp2.txt
# RUN: %python %pylib/compare_losses.py %t/sgd-tp2.txt %t/sgd/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=SGD
# RUN: parc-compile %t/adamw/model.onnx --train --tp=2 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/adamw-tp2.parc
# RUN: parc-run %t/adamw-tp2.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/adamw-tp2-out > %t/adamw-tp2.txt
# RUN: %python %pylib/compare_losses.py %t/adamw-tp2.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=ADAMW
#
# dp=2 x tp=2 on four ranks (a global batch of 4: two rows per dp rank) against PyTorch.
# RUN: %python %models/train_reference.py gpt2 %t/b4 --steps 5 --batch 4 --optimizer adamw --lr 0.01
# RUN: parc-compile %t/b4/model.onnx --train --dp=2 --tp=2 --optimizer=adamw --lr=0.01 -o %t/dp2tp2.parc --report | FileCheck %s --check-prefix=MESH4
# MESH4: target: cpu, 4 ranks
# MESH4: mesh: dp=2 pp=1 tp=2
# RUN: parc-run %t/dp2tp2.parc --steps 5 --input input_ids=%t/b4/input_ids.npy --input labels=%t/b4/labels.npy --output-dir %t/dp2tp2-out --timeout 120 > %t/dp2tp2.txt
# RUN: %python %pylib/compare_losses.py %t/dp2tp2.txt %t/b4/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=DPTP
# DPTP: step 4: {{.*}} ok
#
# --save after 5 AdamW steps and --resume for the other 5 continues exactly where the
# uninterrupted run went: the same printed losses, digit for digit.
# RUN: %python %pylib/slice_steps.py %t/adamw/input_ids.npy %t/first_ids.npy --batch 2 --first 0 --count 5
# RUN: %python %pylib/slice_steps.py %t/adamw/labels.npy %t/first_labels.npy --batch 2 --first 0 --count 5
# RUN: parc-run %t/adamw.parc --steps 5 --input input_ids=%t/first_ids.npy --input labels=%t/first_labels.npy --output-dir %t/first-out --save %t/checkpoint
# RUN: %python %pylib/slice_steps.py %t/adamw/input_ids.npy %t/rest_ids.npy --batch 2 --first 5
# RUN: %python %pylib/slice_steps.py %t/adamw/labels.npy %t/rest_labels.npy --batch 2 --first 5
# RUN: parc-run %t/adamw.parc --steps 5 --input input_ids=%t/rest_ids.npy --input labels=%t/rest_labels.npy --output-dir %t/rest-out --resume %t/checkpoint > %t/resumed.txt
# RUN: %python %pylib/compare_losses.py %t/resumed.txt %t/adamw.txt --exact --first-step -5 | FileCheck %s --check-prefix=RESUME
# RESUME: step 0: {{.*}} identical
# RESUME: step 4: {{.*}} identical
# RUN: ls %t/checkpoint | FileCheck %s --check-prefix=CHECKPOINT
# CHECKPOINT: model.transformer.wte.weight.exp_avg.npy
# CHECKPOINT: model.transformer.wte.weight.npy
# CHECKPOINT: optimizer.step.npy
#
# Misuse is a clear error.
# RUN: not parc-run %t/adamw.parc --steps 3 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/bad 2>&1 | FileCheck %s --check-prefix=STEPS
# STEPS: parc-run: error: input 'input_ids' must be i64 6x16 (3 steps of batches), but {{.*}} holds i64 20x16
# RUN: parc-compile %t/sgd/model.onnx -o %t/inference.parc
# RUN: not parc-run %t/inference.parc --steps 2 --input input_ids=%t/sgd/input_ids.npy --output-dir %t/bad 2>&1 | FileCheck %s --check-prefix=INFERENCE
# INFERENCE: parc-run: error: --steps, --save and --resume need a training artifact (parc-compile --train)
# RUN: not parc-compile %t/sgd/model.onnx --train --dp=4 -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=DP
# DP: error: {{.*}}--dp=4 does not divide the batch of 2 (dim 0 of input 'input_ids')
# RUN: not parc-compile %t/sgd/model.onnx --train --loss=hinge -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=LOSS
# LOSS: error: {{.*}}--loss=hinge: expected cross_entropy or mse
