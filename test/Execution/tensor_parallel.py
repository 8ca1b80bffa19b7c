# RUN: rm -rf %t && mkdir -p %t
# Every model family compiled with --tp=2 (and the MLP with --tp=4) runs on that many CPU
# ranks and gives PyTorch's output (relative L2 error at most 1e-5, as on one rank: the
# partial sums only reorder additions). The GPT-2 runs check every shard's checksum
# (--verify): the writer checksums a split weight piece by piece.
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --reference %t/gpt2
# RUN: parc-compile %t/gpt2.onnx --tp=2 -o %t/gpt2.parc
# RUN: parc-run %t/gpt2.parc --verify --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/gpt2-out %t/gpt2 --names logits --max-rel-l2 1e-5
# RUN: %python %models/make_model.py llama %t/llama.onnx --exporter dynamo --reference %t/llama
# RUN: parc-compile %t/llama.onnx --tp=2 -o %t/llama.parc
# RUN: parc-run %t/llama.parc --input input_ids=%t/llama/input_ids.npy --output-dir %t/llama-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/llama-out %t/llama --names logits --max-rel-l2 1e-5
# RUN: %python %models/make_model.py bert %t/bert.onnx --reference %t/bert
# RUN: parc-compile %t/bert.onnx --tp=2 -o %t/bert.parc
# RUN: parc-run %t/bert.parc --input input_ids=%t/bert/input_ids.npy --output-dir %t/bert-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/bert-out %t/bert --names last_hidden_state --max-rel-l2 1e-5
# RUN: %python %models/make_model.py transformer_encoder %t/enc.onnx --reference %t/enc
# RUN: parc-compile %t/enc.onnx --tp=2 -o %t/enc.parc
# RUN: parc-run %t/enc.parc --input input=%t/enc/input.npy --output-dir %t/enc-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/enc-out %t/enc --names last_hidden_state --max-rel-l2 1e-5
# RUN: %python %models/make_model.py mlp %t/mlp.onnx --reference %t/mlp
# RUN: parc-compile %t/mlp.onnx --tp=4 -o %t/mlp.parc --report | FileCheck %s
# CHECK: target: cpu, 4 ranks
# RUN: parc-run %t/mlp.parc --input input=%t/mlp/input.npy --output-dir %t/mlp-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/mlp-out %t/mlp --names output --max-rel-l2 1e-5
#
# A tp that divides no head count or hidden size (GPT-2 with 4 heads, hidden 64, on 3
# ranks) still gives a correct program: what does not divide stays replicated, and the
# report says so. Llama with 2 key/value heads on 4 ranks likewise.
# RUN: parc-compile %t/gpt2.onnx --tp=3 -o %t/gpt2-3.parc --report | FileCheck %s --check-prefix=TP3
# TP3: target: cpu, 3 ranks
# TP3: model.transformer.wte.weight  replicated (no dim divides by 3)
# RUN: parc-run %t/gpt2-3.parc --verify --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-3-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/gpt2-3-out %t/gpt2 --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/llama.onnx --tp=4 -o %t/llama-4.parc
# RUN: parc-run %t/llama-4.parc --input input_ids=%t/llama/input_ids.npy --output-dir %t/llama-4-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/llama-4-out %t/llama --names logits --max-rel-l2 1e-5
#
# Four ranks for the other families as well.
# RUN: parc-compile %t/gpt2.onnx --tp=4 -o %t/gpt2-4.parc
# RUN: parc-run %t/gpt2-4.parc --input input_ids=%t/gpt2/input_ids.npy --output-dir %t/gpt2-4-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/gpt2-4-out %t/gpt2 --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/bert.onnx --tp=4 -o %t/bert-4.parc
# RUN: parc-run %t/bert-4.parc --input input_ids=%t/bert/input_ids.npy --output-dir %t/bert-4-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/bert-4-out %t/bert --names last_hidden_state --max-rel-l2 1e-5
# RUN: parc-compile %t/enc.onnx --tp=4 -o %t/enc-4.parc
# RUN: parc-run %t/enc-4.parc --input input=%t/enc/input.npy --output-dir %t/enc-4-out --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/enc-4-out %t/enc --names last_hidden_state --max-rel-l2 1e-5
