# RUN: rm -rf %t && mkdir -p %t
# When every failing rank failed while connecting to the others (nothing ran yet; Gloo's
# TCP rendezvous occasionally reports "Connection closed by peer"), parc-run starts the
# ranks once more and says so; a second failure is reported as usual.
# RUN: %python %models/make_model.py mlp %t/mlp.onnx --batch 4 --reference %t/ref
# RUN: parc-compile %t/mlp.onnx --tp=2 -o %t/mlp.parc
# RUN: env PARC_RUN_FAIL_CONNECT_ONCE=1 parc-run %t/mlp.parc --input input=%t/ref/input.npy --output-dir %t/out 2> %t/stderr.txt
# RUN: FileCheck %s --check-prefix=RETRY < %t/stderr.txt
# RETRY: parc-run: the ranks could not connect (rank 1: injected connection failure (PARC_RUN_FAIL_CONNECT_ONCE)); starting them again
# RUN: %python %pylib/compare_outputs.py %t/out %t/ref --names output --max-rel-l2 1e-5
