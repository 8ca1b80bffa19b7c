# RUN: rm -rf %t && mkdir -p %t
# parc-compile --random-weights stores no weight bytes; parc-run makes up seeded values
# (for benchmarks of models too large to copy where they run). The artifact shrinks, runs
# give finite and repeatable outputs, and a CPU and a CUDA artifact of the same model make
# up the same weights (so the emulated CUDA backend matches the CPU backend).
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --batch 2 --reference %t/ref
# RUN: parc-compile %t/gpt2.onnx -o %t/full.parc
# RUN: parc-compile %t/gpt2.onnx --random-weights -o %t/random.parc
# RUN: %python -c "import os,sys; full, rnd = (os.path.getsize(sys.argv[i]) for i in (1, 2)); print('smaller' if rnd * 3 < full else 'NOT SMALLER', full, rnd)" %t/full.parc %t/random.parc | FileCheck %s --check-prefix=SIZE
# SIZE: smaller
# RUN: parc-run %t/random.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/a --profile-json %t/profile.json
# RUN: parc-run %t/random.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/b
# RUN: %python %pylib/compare_outputs.py %t/b %t/a --names logits --max-rel-l2 0
# Every value depends only on the weight's name and its place in the whole weight, so a
# tensor-parallel and a pipelined layout make up the same model as one rank (f32 sums in
# another order: 1e-5).
# RUN: parc-compile %t/gpt2.onnx --random-weights --tp=2 -o %t/random-tp2.parc
# RUN: parc-run %t/random-tp2.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/tp2
# RUN: %python %pylib/compare_outputs.py %t/tp2 %t/a --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/gpt2.onnx --random-weights --tp=2 --pp=2 -o %t/random-tp2-pp2.parc
# RUN: parc-run %t/random-tp2-pp2.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/tp2pp2
# RUN: %python %pylib/compare_outputs.py %t/tp2pp2 %t/a --names logits --max-rel-l2 1e-5
# Training with made-up weights: the optimizer state keeps its zero bytes (Adam's second
# moment made up negative gave NaN losses), so the losses are finite and fall.
# RUN: %python %models/train_reference.py gpt2 %t/train --steps 6 --batch 4 --optimizer adamw --lr 0.01
# RUN: parc-compile %t/train/model.onnx --train --optimizer=adamw --lr=0.01 --random-weights -o %t/train.parc
# RUN: parc-run %t/train.parc --steps 6 --input input_ids=%t/train/input_ids.npy --input labels=%t/train/labels.npy --output-dir %t/train-out > %t/train.txt
# RUN: %python -c "import math,sys; l=[float(x.split('loss=')[1]) for x in open(sys.argv[1]) if x.startswith('step=')]; print('finite, falling' if len(l) == 6 and all(math.isfinite(v) for v in l) and l[-1] < l[0] else 'BAD %s' % l)" %t/train.txt | FileCheck %s --check-prefix=TRAIN
# TRAIN: finite, falling
# The made-up weights are not the model's: the output differs from PyTorch's.
# RUN: not %python %pylib/compare_outputs.py %t/a %t/ref --names logits --max-rel-l2 1e-2
# --profile-json: every instruction with its time and bytes, GEMMs with their shapes.
# RUN: %python %pylib/check_profile_json.py %t/profile.json --instructions-at-least 10 --gemms-at-least 4 | FileCheck %s --check-prefix=PROFILE
# PROFILE: profile: {{[0-9]+}} instructions, {{[0-9]+}} GEMMs, device 'cpu', 1 runs: ok
# RUN: not parc-run %t/random.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/c --profile-json 2>&1 | FileCheck %s --check-prefix=FLAG
# FLAG: parc-run: error: --profile-json needs a value
