# RUN: rm -rf %t && mkdir -p %t
# What a training run does with its checkpoint when something goes wrong, and where
# checkpoints can be resumed. PARC_FAULT=RANK:WHEN[:ACTION] (runtime/lib/Fault.h) makes a
# rank fail on purpose.
#
# RUN: %python %models/train_reference.py gpt2 %t/data --steps 6 --batch 4 --optimizer adamw --lr 0.01 --weight-decay 0.01
# RUN: %python %pylib/slice_steps.py %t/data/input_ids.npy %t/first_ids.npy --batch 4 --first 0 --count 3
# RUN: %python %pylib/slice_steps.py %t/data/labels.npy %t/first_labels.npy --batch 4 --first 0 --count 3
# RUN: %python %pylib/slice_steps.py %t/data/input_ids.npy %t/two_ids.npy --batch 4 --first 0 --count 2
# RUN: %python %pylib/slice_steps.py %t/data/labels.npy %t/two_labels.npy --batch 4 --first 0 --count 2
# RUN: %python %pylib/slice_steps.py %t/data/input_ids.npy %t/rest_ids.npy --batch 4 --first 3
# RUN: %python %pylib/slice_steps.py %t/data/labels.npy %t/rest_labels.npy --batch 4 --first 3
# RUN: parc-compile %t/data/model.onnx --train --dp=2 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/dp2.parc
# RUN: parc-run %t/dp2.parc --steps 3 --input input_ids=%t/first_ids.npy --input labels=%t/first_labels.npy --output-dir %t/good --save %t/ckpt
# RUN: %python %pylib/tree_digest.py %t/ckpt > %t/ckpt.digest
#
# A failed run leaves the previous checkpoint as it was (byte for byte), no half-written
# one (DIR.partial) and nothing in its output folder: a rank that dies during training, one
# that dies just before writing its part, and one that fails with an error there (while
# rank 0 writes all of its part). The failing runs train 2 steps, so a checkpoint of theirs
# would differ from the 3-step one; each is checked on its own.
# RUN: not env PARC_FAULT=1:1 parc-run %t/dp2.parc --steps 2 --input input_ids=%t/two_ids.npy --input labels=%t/two_labels.npy --output-dir %t/failed --save %t/ckpt 2>&1 | FileCheck %s --check-prefix=DIED
# DIED: parc-run: error: rank 0: {{.*}}; rank 1 died with signal 6 (Aborted)
# RUN: %python %pylib/tree_digest.py %t/ckpt | diff - %t/ckpt.digest
# RUN: not ls %t/ckpt.partial
# RUN: not env PARC_FAULT=0:save parc-run %t/dp2.parc --steps 2 --input input_ids=%t/two_ids.npy --input labels=%t/two_labels.npy --output-dir %t/failed --save %t/ckpt 2>&1 | FileCheck %s --check-prefix=DIEDSAVING
# DIEDSAVING: parc-run: error: rank 1: {{.*}}; rank 0 died with signal 6 (Aborted)
# RUN: %python %pylib/tree_digest.py %t/ckpt | diff - %t/ckpt.digest
# RUN: not ls %t/ckpt.partial
# RUN: not env PARC_FAULT=1:save:error parc-run %t/dp2.parc --steps 2 --input input_ids=%t/two_ids.npy --input labels=%t/two_labels.npy --output-dir %t/failed --save %t/ckpt 2>&1 | FileCheck %s --check-prefix=ERROR
# ERROR: parc-run: error: rank 1: injected fault (PARC_FAULT=1:save:error)
# RUN: %python %pylib/tree_digest.py %t/ckpt | diff - %t/ckpt.digest
# RUN: not ls %t/ckpt.partial
# RUN: ls -A %t/failed | count 0
#
# --resume refuses a checkpoint file that does not fit the weight it is for (shape, dtype,
# missing), naming the file and what the weight needs, and writes nothing.
# RUN: cp -r %t/ckpt %t/reshaped && %python -c "import numpy as np, sys; np.save(sys.argv[1], np.zeros((3, 64), np.float32))" %t/reshaped/model.transformer.wpe.weight.npy
# RUN: not parc-run %t/dp2.parc --steps 3 --input input_ids=%t/rest_ids.npy --input labels=%t/rest_labels.npy --output-dir %t/refused --resume %t/reshaped 2>&1 | FileCheck %s --check-prefix=SHAPE
# SHAPE: parc-run: error: rank {{[01]}}: --resume: {{.*}}reshaped/model.transformer.wpe.weight.npy holds f32 3x64, but 'model.transformer.wpe.weight' is f32 64x64
# RUN: cp -r %t/ckpt %t/retyped && %python -c "import numpy as np, sys; np.save(sys.argv[1], np.load(sys.argv[1]).astype(np.int64))" %t/retyped/model.transformer.ln_f.bias.exp_avg.npy
# RUN: not parc-run %t/dp2.parc --steps 3 --input input_ids=%t/rest_ids.npy --input labels=%t/rest_labels.npy --output-dir %t/refused --resume %t/retyped 2>&1 | FileCheck %s --check-prefix=DTYPE
# DTYPE: parc-run: error: rank {{[01]}}: --resume: {{.*}}retyped/model.transformer.ln_f.bias.exp_avg.npy holds i64 64, but 'model.transformer.ln_f.bias.exp_avg' is f32 64
# RUN: cp -r %t/ckpt %t/incomplete && rm %t/incomplete/optimizer.step.npy
# RUN: not parc-run %t/dp2.parc --steps 3 --input input_ids=%t/rest_ids.npy --input labels=%t/rest_labels.npy --output-dir %t/refused --resume %t/incomplete 2>&1 | FileCheck %s --check-prefix=MISSING
# MISSING: parc-run: error: rank {{[01]}}: {{.*}}incomplete/optimizer.step.npy{{.*}}
# RUN: ls -A %t/refused | count 0
#
# ZeRO-1 checkpoints hold the optimizer state in its weight's shape, as every other
# checkpoint does: saved at dp=2 with --zero=1, they resume at dp=4 with --zero=1, at dp=2
# without ZeRO and on one rank, each continuing PyTorch's trajectory (steps 3..5, 1e-4).
# RUN: parc-compile %t/data/model.onnx --train --dp=2 --zero=1 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/zero2.parc
# RUN: parc-run %t/zero2.parc --steps 3 --input input_ids=%t/first_ids.npy --input labels=%t/first_labels.npy --output-dir %t/zero-out --save %t/zero-ckpt
# RUN: %python -c "import numpy, sys; print(numpy.load(sys.argv[1]).shape)" %t/zero-ckpt/model.transformer.h.0.attn.c_attn.weight.exp_avg.npy | FileCheck %s --check-prefix=WHOLE
# WHOLE: (64, 192)
# RUN: parc-compile %t/data/model.onnx --train --dp=4 --zero=1 --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/zero4.parc
# RUN: parc-compile %t/data/model.onnx --train --optimizer=adamw --lr=0.01 --weight-decay=0.01 -o %t/one.parc
# RUN: parc-run %t/zero4.parc --steps 3 --input input_ids=%t/rest_ids.npy --input labels=%t/rest_labels.npy --output-dir %t/zero4-out --resume %t/zero-ckpt > %t/zero4.txt
# RUN: %python %pylib/compare_losses.py %t/zero4.txt %t/data/losses.txt --first-step -3 --max-rel 1e-4 | FileCheck %s --check-prefix=RESUMED
# RUN: parc-run %t/dp2.parc --steps 3 --input input_ids=%t/rest_ids.npy --input labels=%t/rest_labels.npy --output-dir %t/dp2-out --resume %t/zero-ckpt > %t/dp2.txt
# RUN: %python %pylib/compare_losses.py %t/dp2.txt %t/data/losses.txt --first-step -3 --max-rel 1e-4 | FileCheck %s --check-prefix=RESUMED
# RUN: parc-run %t/one.parc --steps 3 --input input_ids=%t/rest_ids.npy --input labels=%t/rest_labels.npy --output-dir %t/one-out --resume %t/zero-ckpt > %t/one.txt
# RUN: %python %pylib/compare_losses.py %t/one.txt %t/data/losses.txt --first-step -3 --max-rel 1e-4 | FileCheck %s --check-prefix=RESUMED
# RESUMED: step 0: {{.*}} ok
# RESUMED: step 2: {{.*}} ok
#
# A rank stopped by SIGSTOP (at step 1, its peer waiting for it in a collective; and a
# single rank alone) ends the job once it has stayed stopped for 2 s: parc-run names it,
# exits non-zero, and no rank is left, stopped or not.
# RUN: %python %pylib/run_bounded.py --within 6 --marker %t/dp2.parc -- env PARC_FAULT=1:1:stop parc-run %t/dp2.parc --steps 3 --input input_ids=%t/first_ids.npy --input labels=%t/first_labels.npy --output-dir %t/hung | FileCheck %s --check-prefix=STOPPED1
# STOPPED1: parc-run: error: rank 1 was stopped by signal 19 ({{.*}}) and not continued within 2 s; all ranks were stopped
# STOPPED1: exited with code 1 after {{[2-5]\.[0-9]}} s
# RUN: %python %pylib/run_bounded.py --within 6 --marker %t/one.parc -- env PARC_FAULT=0:0:stop parc-run %t/one.parc --steps 3 --input input_ids=%t/first_ids.npy --input labels=%t/first_labels.npy --output-dir %t/hung | FileCheck %s --check-prefix=STOPPED0
# STOPPED0: parc-run: error: rank 0 was stopped by signal 19 ({{.*}}) and not continued within 2 s; all ranks were stopped
# --timeout bounds a job whatever holds it up: here it ends before the stopped rank's 2 s.
# RUN: %python %pylib/run_bounded.py --within 5 --marker %t/dp2.parc -- env PARC_FAULT=1:1:stop parc-run %t/dp2.parc --steps 3 --input input_ids=%t/first_ids.npy --input labels=%t/first_labels.npy --output-dir %t/hung --timeout 1 | FileCheck %s --check-prefix=HUNG
# HUNG: parc-run: error: timed out after 1 s (--timeout); all ranks were stopped
# HUNG: exited with code 1 after {{[1-3]\.[0-9]}} s
# RUN: ls -A %t/hung | count 0
#
# A malformed PARC_FAULT is an error, not ignored.
# RUN: not env PARC_FAULT=one:2 parc-run %t/one.parc --steps 3 --input input_ids=%t/first_ids.npy --input labels=%t/first_labels.npy --output-dir %t/bad 2>&1 | FileCheck %s --check-prefix=BADFAULT
# BADFAULT: parc-run: error: rank 0: PARC_FAULT='one:2': expected RANK:STEP|save[:abort|kill|stop|close|error]
