# RUN: rm -rf %t && mkdir -p %t
# Every model family, exported with a batch of 4, runs pipelined on CPU ranks and gives
# PyTorch's output and the single-rank output (relative L2 error at most 1e-5): pp = 2 and
# 4; 1, 2 and 4 microbatches; GPipe and 1F1B; tp=2 x pp=2 on four ranks; interleaved 1F1B
# with two chunks per stage. check_pipeline.py prints one line per configuration.
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --batch 4 --reference %t/gpt2
# RUN: %python %pylib/check_pipeline.py %t/gpt2.onnx %t/gpt2 --input input_ids --output logits --work %t/gpt2-runs | FileCheck %s
# RUN: %python %models/make_model.py llama %t/llama.onnx --exporter dynamo --batch 4 --reference %t/llama
# RUN: %python %pylib/check_pipeline.py %t/llama.onnx %t/llama --input input_ids --output logits --work %t/llama-runs | FileCheck %s
# RUN: %python %models/make_model.py bert %t/bert.onnx --batch 4 --reference %t/bert
# RUN: %python %pylib/check_pipeline.py %t/bert.onnx %t/bert --input input_ids --output last_hidden_state --work %t/bert-runs | FileCheck %s
# RUN: %python %models/make_model.py transformer_encoder %t/enc.onnx --batch 4 --reference %t/enc
# RUN: %python %pylib/check_pipeline.py %t/enc.onnx %t/enc --input input --output last_hidden_state --work %t/enc-runs | FileCheck %s
# RUN: %python %models/make_model.py mlp %t/mlp.onnx --batch 4 --reference %t/mlp
# RUN: %python %pylib/check_pipeline.py %t/mlp.onnx %t/mlp --input input --output output --work %t/mlp-runs | FileCheck %s
#
# CHECK: --pp=2 --microbatches=1 --schedule=gpipe: {{.*}} ok
# CHECK: --pp=2 --microbatches=4 --schedule=1f1b: {{.*}} ok
# CHECK: --pp=4 --microbatches=4 --schedule=gpipe: {{.*}} ok
# CHECK: --tp=2 --pp=2 --microbatches=2: {{.*}} ok
# CHECK: --pp=2 --virtual-stages=2 --microbatches=4: {{.*}} ok
