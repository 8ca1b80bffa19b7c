# RUN: rm -rf %t && mkdir -p %t
# Training with pipeline parallelism: each stage runs the forward and backward passes of
# its chunk for every microbatch in the schedule's order (1F1B or GPipe), accumulates the
# gradients over the microbatches and updates its own weights once per step (a tied
# embedding on the first and the last stage gets the same update on both). Every layout
# trains GPT-2 to PyTorch's losses on the same global batch of 4 (relative error per step
# at most 1e-4; f32), and the 8-rank run to the single-device run's losses (at most 1e-5).
# RUN: %python %models/train_reference.py gpt2 %t/sgd --steps 10 --batch 4 --optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 0.01
# RUN: %python %models/train_reference.py gpt2 %t/adamw --steps 10 --batch 4 --optimizer adamw --lr 0.01 --weight-decay 0.01
# RUN: %python %models/train_reference.py mlp %t/mlp --steps 5 --batch 4 --optimizer sgd --lr 0.05
#
# One device, for the partitioned runs to match.
# RUN: parc-compile %t/adamw/model.onnx --train --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/one.parc
# RUN: parc-run %t/one.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/one-out > %t/one.txt
# RUN: %python %pylib/compare_losses.py %t/one.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# LAST: step 9: {{.*}} ok
#
# pp=2 with one microbatch, and with two under GPipe; SGD with momentum and weight decay.
# RUN: parc-compile %t/sgd/model.onnx --train --pp=2 --optimizer=sgd --lr=0.1 --momentum=0.9 --weight-decay=0.01 -o %t/pp2.parc
# RUN: parc-run %t/pp2.parc --steps 10 --input input_ids=%t/sgd/input_ids.npy --input labels=%t/sgd/labels.npy --output-dir %t/pp2-out > %t/pp2.txt
# RUN: %python %pylib/compare_losses.py %t/pp2.txt %t/sgd/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# RUN: parc-compile %t/sgd/model.onnx --train --pp=2 --microbatches=2 --schedule=gpipe --optimizer=sgd --lr=0.1 --momentum=0.9 --weight-decay=0.01 -o %t/gpipe.parc
# RUN: parc-run %t/gpipe.parc --steps 10 --input input_ids=%t/sgd/input_ids.npy --input labels=%t/sgd/labels.npy --output-dir %t/gpipe-out > %t/gpipe.txt
# RUN: %python %pylib/compare_losses.py %t/gpipe.txt %t/sgd/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
#
# 1F1B with four microbatches on two stages: the trace shows every forward and backward
# pass, gradients flowing back stage by stage, and stage 0 holding at most 2 microbatches.
# RUN: parc-compile %t/adamw/model.onnx --train --pp=2 --microbatches=4 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/1f1b.parc
# RUN: parc-run %t/1f1b.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/1f1b-out --trace %t/1f1b.json > %t/1f1b.txt
# RUN: %python %pylib/compare_losses.py %t/1f1b.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# RUN: %python %pylib/check_trace.py %t/1f1b.json --pp 2 --microbatches 4 --training --one-f-one-b | FileCheck %s --check-prefix=TRACE
# TRACE: rank 0 (rank 0: stage 0, tp 0): F0 c0{{.*}} F1 c0{{.*}} B0 c0{{.*}} F2 c0{{.*}} B1 c0{{.*}} F3 c0{{.*}} B2 c0{{.*}} B3 c0
# TRACE: rank 1 (rank 1: stage 1, tp 0): F0 c1{{.*}} B0 c1{{.*}} F1 c1{{.*}} B1 c1
# TRACE: stage 0: at most 2 microbatches in flight
# TRACE: stage 1: at most 1 microbatches in flight
#
# Four stages, interleaved stages (two chunks per rank), and microbatches alone
# (gradient accumulation on one rank).
# RUN: parc-compile %t/adamw/model.onnx --train --pp=4 --microbatches=4 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/pp4.parc
# RUN: parc-run %t/pp4.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/pp4-out --timeout 120 > %t/pp4.txt
# RUN: %python %pylib/compare_losses.py %t/pp4.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# RUN: parc-compile %t/adamw/model.onnx --train --pp=2 --virtual-stages=2 --microbatches=2 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/v2.parc
# RUN: parc-run %t/v2.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/v2-out > %t/v2.txt
# RUN: %python %pylib/compare_losses.py %t/v2.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# RUN: parc-compile %t/adamw/model.onnx --train --microbatches=4 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/accumulate.parc
# RUN: parc-run %t/accumulate.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/accumulate-out > %t/accumulate.txt
# RUN: %python %pylib/compare_losses.py %t/accumulate.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
#
# Mixed with tensor and data parallelism: tp=2 x pp=2, dp=2 x pp=2, and dp=2 x tp=2 x pp=2
# on 8 CPU ranks.
# RUN: parc-compile %t/adamw/model.onnx --train --tp=2 --pp=2 --microbatches=2 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/tp2pp2.parc
# RUN: parc-run %t/tp2pp2.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/tp2pp2-out --timeout 120 > %t/tp2pp2.txt
# RUN: %python %pylib/compare_losses.py %t/tp2pp2.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# RUN: parc-compile %t/sgd/model.onnx --train --dp=2 --pp=2 --microbatches=2 --optimizer=sgd --lr=0.1 --momentum=0.9 --weight-decay=0.01 -o %t/dp2pp2.parc
# RUN: parc-run %t/dp2pp2.parc --steps 10 --input input_ids=%t/sgd/input_ids.npy --input labels=%t/sgd/labels.npy --output-dir %t/dp2pp2-out --timeout 120 > %t/dp2pp2.txt
# RUN: %python %pylib/compare_losses.py %t/dp2pp2.txt %t/sgd/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# RUN: parc-compile %t/adamw/model.onnx --train --dp=2 --tp=2 --pp=2 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/all8.parc --report | FileCheck %s --check-prefix=MESH
# MESH: target: cpu, 8 ranks
# MESH: mesh: dp=2 pp=2 tp=2
# RUN: parc-run %t/all8.parc --steps 10 --input input_ids=%t/adamw/input_ids.npy --input labels=%t/adamw/labels.npy --output-dir %t/all8-out --timeout 120 > %t/all8.txt
# RUN: %python %pylib/compare_losses.py %t/all8.txt %t/adamw/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# RUN: %python %pylib/compare_losses.py %t/all8.txt %t/one.txt --max-rel 1e-5 | FileCheck %s --check-prefix=LAST
#
# The MLP with mean squared error on two stages.
# RUN: parc-compile %t/mlp/model.onnx --train --loss=mse --pp=2 --microbatches=2 --optimizer=sgd --lr=0.05 -o %t/mlp.parc
# RUN: parc-run %t/mlp.parc --steps 5 --input input=%t/mlp/input.npy --input labels=%t/mlp/labels.npy --output-dir %t/mlp-out > %t/mlp.txt
# RUN: %python %pylib/compare_losses.py %t/mlp.txt %t/mlp/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=MLP
# MLP: step 4: {{.*}} ok
#
# Checkpoints hold whole tensors: on 8 ranks, --save after 5 steps gathers every shard
# from its tp group (stage by stage; dp replica 0 writes), and --resume (each rank taking
# its part) continues digit for digit where the uninterrupted run went. The checkpoint
# written back into the ONNX model (python -m parc.checkpoint) gives, in onnxruntime, the
# loss PyTorch computed at step 5 from its own weights after 5 steps.
# RUN: %python %pylib/slice_steps.py %t/adamw/input_ids.npy %t/first_ids.npy --batch 4 --first 0 --count 5
# RUN: %python %pylib/slice_steps.py %t/adamw/labels.npy %t/first_labels.npy --batch 4 --first 0 --count 5
# RUN: %python %pylib/slice_steps.py %t/adamw/input_ids.npy %t/rest_ids.npy --batch 4 --first 5
# RUN: %python %pylib/slice_steps.py %t/adamw/labels.npy %t/rest_labels.npy --batch 4 --first 5
# RUN: parc-run %t/all8.parc --steps 5 --input input_ids=%t/first_ids.npy --input labels=%t/first_labels.npy --output-dir %t/first-out --save %t/checkpoint --timeout 120
# RUN: parc-run %t/all8.parc --steps 5 --input input_ids=%t/rest_ids.npy --input labels=%t/rest_labels.npy --output-dir %t/rest-out --resume %t/checkpoint --timeout 120 > %t/resumed.txt
# RUN: %python %pylib/compare_losses.py %t/resumed.txt %t/all8.txt --exact --first-step -5 | FileCheck %s --check-prefix=RESUME
# RESUME: step 0: {{.*}} identical
# RESUME: step 4: {{.*}} identical
# RUN: %python -c "import numpy, sys; print(numpy.load(sys.argv[1]).shape)" %t/checkpoint/model.transformer.h.0.attn.c_attn.weight.exp_avg.npy | FileCheck %s --check-prefix=WHOLE
# WHOLE: (64, 192)
# RUN: not ls %t/checkpoint.partial
# The same checkpoint resumes on one device: PyTorch's steps 5..9.
# RUN: parc-run %t/one.parc --steps 5 --input input_ids=%t/rest_ids.npy --input labels=%t/rest_labels.npy --output-dir %t/one-rest-out --resume %t/checkpoint > %t/one-resumed.txt
# RUN: %python %pylib/compare_losses.py %t/one-resumed.txt %t/adamw/losses.txt --first-step -5 --max-rel 1e-4 | FileCheck %s --check-prefix=ONE
# ONE: step 4: {{.*}} ok
# RUN: env PYTHONPATH=%src/python-frontend %python -m parc.checkpoint %t/adamw/model.onnx %t/checkpoint -o %t/trained.onnx | FileCheck %s --check-prefix=EXPORT
# EXPORT: parc.checkpoint: wrote {{.*}}trained.onnx (28 trained initializers)
# RUN: %python %pylib/onnx_loss.py %t/trained.onnx --input input_ids=%t/adamw/input_ids.npy --labels %t/adamw/labels.npy --batch 4 --step 5 --reference %t/adamw/losses.txt | FileCheck %s --check-prefix=ONNX
# ONNX: step 5: {{.*}} ok
# A checkpoint that does not fit the model is refused, and nothing is written.
# RUN: not env PYTHONPATH=%src/python-frontend %python -m parc.checkpoint %t/mlp/model.onnx %t/checkpoint -o %t/wrong.onnx 2>&1 | FileCheck %s --check-prefix=WRONG
# WRONG: parc.checkpoint: error: {{.*}}checkpoint: no initializer of {{.*}}model.onnx for model.transformer
# RUN: not ls %t/wrong.onnx
#
# BERT: its token-type embeddings are looked up for the whole batch and sliced per
# microbatch and per dp rank (a whole value meeting the batch). The slice's backward puts a
# microbatch's gradient in its rows (zeros elsewhere) and scales a dp rank's share by 1/dp
# (the optimizer averages the ranks); dp=2 x pp=2 x M=2 trains to the one-device losses.
# One device matches PyTorch like the other models (1e-4): the reference trains the graph
# as exported, where the pad token's embedding row (padding_idx, frozen in PyTorch) is a
# row like any other (train_reference.py).
# RUN: %python %models/train_reference.py bert %t/bert --steps 4 --batch 4 --optimizer sgd --lr 0.05
# RUN: parc-compile %t/bert/model.onnx --train --optimizer=sgd --lr=0.05 -o %t/bert-one.parc
# RUN: parc-run %t/bert-one.parc --steps 4 --input input_ids=%t/bert/input_ids.npy --input labels=%t/bert/labels.npy --output-dir %t/bert-one-out > %t/bert-one.txt
# RUN: %python %pylib/compare_losses.py %t/bert-one.txt %t/bert/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=BERTLOSS
# RUN: parc-compile %t/bert/model.onnx --train --optimizer=sgd --lr=0.05 --dp=2 --pp=2 --microbatches=2 -o %t/bert-dppp.parc
# RUN: parc-run %t/bert-dppp.parc --steps 4 --input input_ids=%t/bert/input_ids.npy --input labels=%t/bert/labels.npy --output-dir %t/bert-dppp-out --timeout 120 > %t/bert-dppp.txt
# RUN: %python %pylib/compare_losses.py %t/bert-dppp.txt %t/bert-one.txt --max-rel 1e-5 | FileCheck %s --check-prefix=BERTLOSS
# BERTLOSS: step 3: {{.*}} ok
