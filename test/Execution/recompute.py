# RUN: rm -rf %t && mkdir -p %t
# Activation recomputation: every setting trains GPT-2 (sequence 32, batch 4 in two
# microbatches, pp=2 under 1F1B) to the same losses, digit for digit (the recomputed
# values are the forward step's, bit for bit), and the reported kept activations follow
# the per-layer formula of docs/training.md: selective drops exactly the attention
# scores, full keeps only what each stage receives, auto keeps each stage within the
# budget recomputing no more than full does.
# RUN: %python %models/train_reference.py gpt2 %t/data --steps 3 --batch 4 --seq 32 --optimizer adamw --lr 0.01
# RUN: parc-compile %t/data/model.onnx --train --pp=2 --microbatches=2 --optimizer=adamw --lr=0.01 --recompute=none --report -o %t/none.parc > %t/none.report
# RUN: parc-compile %t/data/model.onnx --train --pp=2 --microbatches=2 --optimizer=adamw --lr=0.01 --recompute=selective --report -o %t/selective.parc > %t/selective.report
# RUN: parc-compile %t/data/model.onnx --train --pp=2 --microbatches=2 --optimizer=adamw --lr=0.01 --recompute=full --report -o %t/full.parc > %t/full.report
# RUN: parc-compile %t/data/model.onnx --train --pp=2 --microbatches=2 --optimizer=adamw --lr=0.01 --recompute=auto --memory-budget=600KiB --report -o %t/auto.parc > %t/auto.report
# RUN: %python %pylib/check_activation_formula.py %t/none.report --recompute none --batch 2 --seq 32 --hidden 64 --heads 4 --layers 2 --vocab 256 --pp 2 --microbatches 2 | FileCheck %s --check-prefix=FORMULA
# RUN: %python %pylib/check_activation_formula.py %t/selective.report --recompute selective --batch 2 --seq 32 --hidden 64 --heads 4 --layers 2 --vocab 256 --pp 2 --microbatches 2 | FileCheck %s --check-prefix=FORMULA
# RUN: %python %pylib/check_activation_formula.py %t/full.report --recompute full --batch 2 --seq 32 --hidden 64 --heads 4 --layers 2 --vocab 256 --pp 2 --microbatches 2 | FileCheck %s --check-prefix=FORMULA
# FORMULA: formula {{[0-9]+}}: ok
# RUN: FileCheck %s --check-prefix=NONE < %t/none.report
# NONE: stage 0 recompute=none: kept activations {{[0-9]+}} bytes, peak arena {{[0-9]+}} bytes, recomputed 0 FLOPs per step
# RUN: %python %pylib/check_activation_formula.py %t/auto.report --recompute auto --budget 614400 --full %t/full.report | FileCheck %s --check-prefix=AUTO
# AUTO: stage 0: keeps {{[0-9]+}} <= budget 614400, recomputes {{[1-9][0-9]*}} <= full's {{[0-9]+}} FLOPs: ok
# AUTO: stage 1: keeps {{[0-9]+}} <= budget 614400, recomputes {{[0-9]+}} <= full's {{[0-9]+}} FLOPs: ok
# RUN: parc-run %t/none.parc --steps 3 --input input_ids=%t/data/input_ids.npy --input labels=%t/data/labels.npy --output-dir %t/none-out > %t/none.txt
# RUN: parc-run %t/selective.parc --steps 3 --input input_ids=%t/data/input_ids.npy --input labels=%t/data/labels.npy --output-dir %t/selective-out > %t/selective.txt
# RUN: parc-run %t/full.parc --steps 3 --input input_ids=%t/data/input_ids.npy --input labels=%t/data/labels.npy --output-dir %t/full-out > %t/full.txt
# RUN: parc-run %t/auto.parc --steps 3 --input input_ids=%t/data/input_ids.npy --input labels=%t/data/labels.npy --output-dir %t/auto-out > %t/auto.txt
# RUN: %python %pylib/compare_losses.py %t/none.txt %t/data/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# LAST: step 2: {{.*}} ok
# RUN: %python %pylib/compare_losses.py %t/selective.txt %t/none.txt --exact | FileCheck %s --check-prefix=SAME
# RUN: %python %pylib/compare_losses.py %t/full.txt %t/none.txt --exact | FileCheck %s --check-prefix=SAME
# RUN: %python %pylib/compare_losses.py %t/auto.txt %t/none.txt --exact | FileCheck %s --check-prefix=SAME
# SAME: step 2: {{.*}} identical
#
# Recomputation on one rank (no pipeline) and with tensor parallelism; misuse is an error.
# RUN: parc-compile %t/data/model.onnx --train --tp=2 --optimizer=adamw --lr=0.01 --recompute=full -o %t/tp.parc
# RUN: parc-run %t/tp.parc --steps 3 --input input_ids=%t/data/input_ids.npy --input labels=%t/data/labels.npy --output-dir %t/tp-out > %t/tp.txt
# RUN: %python %pylib/compare_losses.py %t/tp.txt %t/data/losses.txt --max-rel 1e-4 | FileCheck %s --check-prefix=LAST
# RUN: not parc-compile %t/data/model.onnx --train --recompute=some -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=BAD
# BAD: error: --recompute=some: expected none, full, selective or auto
# RUN: not parc-compile %t/data/model.onnx --recompute=full -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=TRAIN
# TRAIN: error: --recompute needs --train
# RUN: not parc-compile %t/data/model.onnx --train --recompute=auto -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=BUDGET
# BUDGET: error: --recompute=auto and --memory-budget go together
# RUN: not parc-compile %t/data/model.onnx --train --pp=2 --recompute=auto --memory-budget=1KiB -o %t/bad.parc 2>&1 | FileCheck %s --check-prefix=SMALL
# SMALL: error: {{.*}}--memory-budget=1024: even full recomputation keeps about {{[0-9]+}} bytes of activations on stage 1
# RUN: not ls %t/bad.parc
