# RUN: rm -rf %t && mkdir -p %t
# Inference with --dp=N: each rank takes its rows of the batch, and the outputs are
# all-gathered, so every family gives PyTorch's output on two ranks (batch 4: two rows
# each) and GPT-2 on four (one row each).
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --batch 4 --reference %t/gpt2
# RUN: parc-compile %t/gpt2.onnx --dp=2 -o %t/gpt2.parc
# RUN: parc-run %t/gpt2.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/gpt2-out %t/gpt2 --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/gpt2.onnx --dp=4 -o %t/gpt2-4.parc
# RUN: parc-run %t/gpt2-4.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-4-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/gpt2-4-out %t/gpt2 --names logits --max-rel-l2 1e-5
# RUN: %python %models/make_model.py bert %t/bert.onnx --batch 4 --reference %t/bert
# RUN: parc-compile %t/bert.onnx --dp=2 -o %t/bert.parc
# RUN: parc-run %t/bert.parc --input input_ids=%t/bert/input_ids.npy --output-dir %t/bert-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/bert-out %t/bert --names last_hidden_state --max-rel-l2 1e-5
# RUN: %python %models/make_model.py llama %t/llama.onnx --exporter dynamo --batch 4 --reference %t/llama
# RUN: parc-compile %t/llama.onnx --dp=2 -o %t/llama.parc
# RUN: parc-run %t/llama.parc --input input_ids=%t/llama/input_ids.npy --output-dir %t/llama-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/llama-out %t/llama --names logits --max-rel-l2 1e-5
# RUN: %python %models/make_model.py transformer_encoder %t/enc.onnx --batch 4 --reference %t/enc
# RUN: parc-compile %t/enc.onnx --dp=2 -o %t/enc.parc
# RUN: parc-run %t/enc.parc --input input=%t/enc/input.npy --output-dir %t/enc-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/enc-out %t/enc --names last_hidden_state --max-rel-l2 1e-5
# RUN: %python %models/make_model.py mlp %t/mlp.onnx --batch 4 --reference %t/mlp
# RUN: parc-compile %t/mlp.onnx --dp=2 -o %t/mlp.parc
# RUN: parc-run %t/mlp.parc --input input=%t/mlp/input.npy --output-dir %t/mlp-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/mlp-out %t/mlp --names output --max-rel-l2 1e-5
# RUN: not parc-compile %t/mlp.onnx --dp=3 -o %t/bad.parc 2>&1 | FileCheck %s
# CHECK: error: {{.*}}--dp=3 does not divide the batch of 4 (dim 0 of input 'input')
# dp combines with tp: 2 x 2 ranks.
# RUN: parc-compile %t/gpt2.onnx --dp=2 --tp=2 -o %t/gpt2-dptp.parc
# RUN: parc-run %t/gpt2-dptp.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-dptp-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/gpt2-dptp-out %t/gpt2 --names logits --max-rel-l2 1e-5
# dp combines with pp: dp=2 x tp=2 x pp=2 on 8 ranks, two microbatches per dp rank.
# RUN: parc-compile %t/gpt2.onnx --dp=2 --tp=2 --pp=2 --microbatches=2 -o %t/gpt2-all.parc
# RUN: parc-run %t/gpt2-all.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-all-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/gpt2-all-out %t/gpt2 --names logits --max-rel-l2 1e-5
