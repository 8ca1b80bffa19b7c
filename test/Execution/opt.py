# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %models/make_model.py opt %t/model.onnx --exporter dynamo --reference %t/ref
# RUN: parc-compile %t/model.onnx -o %t/tp1.parc
# RUN: parc-run %t/tp1.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/tp1 --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/tp1 %t/ref --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/model.onnx --tp=2 -o %t/tp2.parc
# RUN: parc-run %t/tp2.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/tp2 --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/tp2 %t/ref --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/model.onnx --pp=2 -o %t/pp2.parc
# RUN: parc-run %t/pp2.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/pp2 --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/pp2 %t/ref --names logits --max-rel-l2 1e-5
# RUN: parc-compile %t/model.onnx --pp=2 --microbatches=2 -o %t/pp2m2.parc
# RUN: parc-run %t/pp2m2.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/pp2m2 --timeout 120
# RUN: %python %pylib/compare_outputs.py %t/pp2m2 %t/ref --names logits --max-rel-l2 1e-5
#
# transformers' OPT: position ids from the attention mask (CumSum, folded at static shapes),
# ReLU feed-forward. Built from a tiny config with random weights, exported by
# torch.onnx.export (dynamo) as a new user would, compiled by parc and run on CPU ranks at
# tp=1, tp=2, pp=2 and pp=2 with two microbatches: each gives PyTorch's output within a
# relative L2 error of 1e-5 (f32; partitioning only reorders additions, about 1e-7).
