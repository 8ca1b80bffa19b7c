# RUN: rm -rf %t && mkdir -p %t
# The models the "adding an op" walkthrough unblocked train as PyTorch does: five SGD steps
# (lr 0.1) through their new ops' gradients (ViT: Conv's im2col slices and matmul; Falcon:
# GatherND's gather; RoBERTa: CumSum), each step's loss within a relative 1e-4 of
# torch.optim's on the same batches (observed <= 5e-7; compare_losses exits 1 beyond it).
# ViT (mse on the last hidden state) and Falcon also at tp=2, pp=2 with two microbatches
# and dp=2.
# RUN: %python %models/train_reference.py vit %t/vit --steps 5 --optimizer sgd --lr 0.1
# RUN: parc-compile %t/vit/model.onnx --train --loss=mse --optimizer=sgd --lr=0.1 -o %t/vit0.parc
# RUN: parc-run %t/vit0.parc --steps 5 --input pixel_values=%t/vit/pixel_values.npy --input labels=%t/vit/labels.npy --output-dir %t/vit0-out > %t/vit0.txt
# RUN: %python %pylib/compare_losses.py %t/vit0.txt %t/vit/losses.txt --max-rel 1e-4 | FileCheck %s
# RUN: parc-compile %t/vit/model.onnx --train --loss=mse --optimizer=sgd --lr=0.1 --tp=2 -o %t/vit1.parc
# RUN: parc-run %t/vit1.parc --steps 5 --input pixel_values=%t/vit/pixel_values.npy --input labels=%t/vit/labels.npy --output-dir %t/vit1-out > %t/vit1.txt
# RUN: %python %pylib/compare_losses.py %t/vit1.txt %t/vit/losses.txt --max-rel 1e-4 | FileCheck %s
# RUN: parc-compile %t/vit/model.onnx --train --loss=mse --optimizer=sgd --lr=0.1 --pp=2 --microbatches=2 -o %t/vit2.parc
# RUN: parc-run %t/vit2.parc --steps 5 --input pixel_values=%t/vit/pixel_values.npy --input labels=%t/vit/labels.npy --output-dir %t/vit2-out > %t/vit2.txt
# RUN: %python %pylib/compare_losses.py %t/vit2.txt %t/vit/losses.txt --max-rel 1e-4 | FileCheck %s
# RUN: parc-compile %t/vit/model.onnx --train --loss=mse --optimizer=sgd --lr=0.1 --dp=2 -o %t/vit3.parc
# RUN: parc-run %t/vit3.parc --steps 5 --input pixel_values=%t/vit/pixel_values.npy --input labels=%t/vit/labels.npy --output-dir %t/vit3-out > %t/vit3.txt
# RUN: %python %pylib/compare_losses.py %t/vit3.txt %t/vit/losses.txt --max-rel 1e-4 | FileCheck %s
# RUN: %python %models/train_reference.py falcon %t/falcon --steps 5 --optimizer sgd --lr 0.1
# RUN: parc-compile %t/falcon/model.onnx --train --loss=cross_entropy --optimizer=sgd --lr=0.1 -o %t/falcon0.parc
# RUN: parc-run %t/falcon0.parc --steps 5 --input input_ids=%t/falcon/input_ids.npy --input labels=%t/falcon/labels.npy --output-dir %t/falcon0-out > %t/falcon0.txt
# RUN: %python %pylib/compare_losses.py %t/falcon0.txt %t/falcon/losses.txt --max-rel 1e-4 | FileCheck %s
# RUN: parc-compile %t/falcon/model.onnx --train --loss=cross_entropy --optimizer=sgd --lr=0.1 --tp=2 -o %t/falcon1.parc
# RUN: parc-run %t/falcon1.parc --steps 5 --input input_ids=%t/falcon/input_ids.npy --input labels=%t/falcon/labels.npy --output-dir %t/falcon1-out > %t/falcon1.txt
# RUN: %python %pylib/compare_losses.py %t/falcon1.txt %t/falcon/losses.txt --max-rel 1e-4 | FileCheck %s
# RUN: parc-compile %t/falcon/model.onnx --train --loss=cross_entropy --optimizer=sgd --lr=0.1 --pp=2 --microbatches=2 -o %t/falcon2.parc
# RUN: parc-run %t/falcon2.parc --steps 5 --input input_ids=%t/falcon/input_ids.npy --input labels=%t/falcon/labels.npy --output-dir %t/falcon2-out > %t/falcon2.txt
# RUN: %python %pylib/compare_losses.py %t/falcon2.txt %t/falcon/losses.txt --max-rel 1e-4 | FileCheck %s
# RUN: parc-compile %t/falcon/model.onnx --train --loss=cross_entropy --optimizer=sgd --lr=0.1 --dp=2 -o %t/falcon3.parc
# RUN: parc-run %t/falcon3.parc --steps 5 --input input_ids=%t/falcon/input_ids.npy --input labels=%t/falcon/labels.npy --output-dir %t/falcon3-out > %t/falcon3.txt
# RUN: %python %pylib/compare_losses.py %t/falcon3.txt %t/falcon/losses.txt --max-rel 1e-4 | FileCheck %s
# RUN: %python %models/train_reference.py roberta %t/roberta --steps 5 --optimizer sgd --lr 0.1
# RUN: parc-compile %t/roberta/model.onnx --train --loss=cross_entropy --optimizer=sgd --lr=0.1 -o %t/roberta0.parc
# RUN: parc-run %t/roberta0.parc --steps 5 --input input_ids=%t/roberta/input_ids.npy --input labels=%t/roberta/labels.npy --output-dir %t/roberta0-out > %t/roberta0.txt
# RUN: %python %pylib/compare_losses.py %t/roberta0.txt %t/roberta/losses.txt --max-rel 1e-4 | FileCheck %s
# RUN: %python %models/train_reference.py opt %t/opt --steps 5 --optimizer sgd --lr 0.1
# RUN: parc-compile %t/opt/model.onnx --train --loss=cross_entropy --optimizer=sgd --lr=0.1 -o %t/opt0.parc
# RUN: parc-run %t/opt0.parc --steps 5 --input input_ids=%t/opt/input_ids.npy --input labels=%t/opt/labels.npy --output-dir %t/opt0-out > %t/opt0.txt
# RUN: %python %pylib/compare_losses.py %t/opt0.txt %t/opt/losses.txt --max-rel 1e-4 | FileCheck %s
# CHECK: step 0: {{.*}} ok
# CHECK: step 4: {{.*}} ok
