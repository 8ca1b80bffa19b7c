# RUN: %python %models/make_model.py gpt2 %t.onnx
# RUN: parc-compile %t.onnx --tp=2 --emit=partitioned -o %t.mlir
# RUN: FileCheck %s < %t.mlir
# RUN: grep -c "parc.all_reduce" %t.mlir | FileCheck %s --check-prefix=ALL-REDUCES
#
# transformers' GPT-2 (2 layers) at --tp=2, planned from the graph alone: in every block the
# packed QKV projection is split by columns in three groups (q, k, v), the attention output
# projection by rows, the first MLP projection by columns and the second by rows; the
# token embedding is split over the vocabulary. All-reduces: one after the embedding and
# exactly one after attention and one after the MLP in each layer: 1 + 2 x 2 = 5.
# CHECK-DAG: parc.weight @model.transformer.h.0.attn.c_attn.weight = {{.*}}{sharding = #parc.sharding<split(1, groups = 3)>}
# CHECK-DAG: parc.weight @model.transformer.h.0.attn.c_proj.weight = {{.*}}{sharding = #parc.sharding<split(0)>}
# CHECK-DAG: parc.weight @model.transformer.h.0.mlp.c_fc.weight = {{.*}}{sharding = #parc.sharding<split(1)>}
# CHECK-DAG: parc.weight @model.transformer.h.0.mlp.c_proj.weight = {{.*}}{sharding = #parc.sharding<split(0)>}
# CHECK-DAG: parc.weight @model.transformer.h.1.attn.c_attn.weight = {{.*}}{sharding = #parc.sharding<split(1, groups = 3)>}
# CHECK-DAG: parc.weight @model.transformer.wte.weight = {{.*}}{sharding = #parc.sharding<split(0)>}
# Layer norms stay replicated.
# CHECK-NOT: parc.weight @model.transformer.h.0.ln_1.weight = {{.*}}sharding
# CHECK-LABEL: func.func @main
# CHECK: parc.shard_gather
# CHECK: parc.all_reduce
# Attention runs per head: the score matmul and softmax hold half the heads.
# CHECK: parc.softmax {{.*}} : tensor<2x2x16x16xf32>
# CHECK: parc.all_reduce {{.*}} : tensor<32x64xf32>
# CHECK: parc.all_reduce {{.*}} : tensor<32x64xf32>
# ALL-REDUCES: 5
#
# The report lists the same plan with each collective's size. Megatron's analysis: per layer
# and forward pass, two all-reduces of batch x sequence x hidden = 2 x 16 x 64 = 2048 f32
# elements (8192 bytes), one after attention and one after the MLP.
# RUN: parc-compile %t.onnx --tp=2 -o %t.parc --report > %t.report
# RUN: FileCheck %s --check-prefix=REPORT < %t.report
# Each rank's artifact holds exactly its share of the split weights plus the replicated ones:
# RUN: %python -c "import re, sys; r = open(sys.argv[1]).read(); s, p = map(int, re.search(r'weight bytes per rank: (\d+) split \+ (\d+) replicated', r).groups()); w = int(re.search(r'rank 0: weights (\d+) bytes', r).group(1)); assert w == s + p, (w, s, p)" %t.report
# REPORT: mesh: dp=1 pp=1 tp=2
# REPORT-DAG: model.transformer.h.0.attn.c_attn.weight  split(1, groups = 3)  24576 of 49152
# REPORT-DAG: model.transformer.h.0.ln_1.weight  replicated  256 of 256
# REPORT: collectives per forward pass
# REPORT: all_reduce  2048 elements, 8192 bytes  after '{{.*}}h.0/attn/c_proj{{.*}}'
# REPORT-NEXT: all_reduce  2048 elements, 8192 bytes  after '{{.*}}h.0/mlp/c_proj{{.*}}'
# REPORT-NEXT: all_reduce  2048 elements, 8192 bytes  after '{{.*}}h.1/attn/c_proj{{.*}}'
# REPORT-NEXT: all_reduce  2048 elements, 8192 bytes  after '{{.*}}h.1/mlp/c_proj{{.*}}'
