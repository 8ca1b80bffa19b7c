# RUN: %python %s %t.onnx
# RUN: parc-compile --emit=parc %t.onnx | FileCheck %s
# Composite operators decompose into the core set: Gemm into transpose, matmul, scaling and
# add; LayerNormalization into reductions and elementwise ops; Clip into max/min; the
# comparisons, logic, Where and Cast map directly; Identity and inference Dropout vanish.
import numpy as np
from onnx import helper

from onnx_graph import BOOL, FLOAT, constant_node, initializer, output_path, save_model, tensor_input

rng = np.random.default_rng(0)
nodes = [
    helper.make_node("Gemm", ["x", "w", "c"], ["gemm"], name="gemm", transB=1, alpha=0.5, beta=2.0),
    helper.make_node("LayerNormalization", ["gemm", "gamma", "beta"], ["ln"], name="ln", epsilon=1e-6),
    constant_node("lo", np.array(-1.0, dtype=np.float32)),
    constant_node("hi", np.array(1.0, dtype=np.float32)),
    helper.make_node("Clip", ["ln", "lo", "hi"], ["clip"], name="clip"),
    helper.make_node("Softmax", ["clip"], ["sm"], name="softmax"),
    helper.make_node("LogSoftmax", ["sm"], ["lsm"], name="log_softmax", axis=0),
    helper.make_node("ReduceMean", ["lsm"], ["mean"], name="mean", axes=[1], keepdims=1),
    helper.make_node("ReduceMax", ["lsm"], ["max"], name="max", axes=[-1], keepdims=0),
    helper.make_node("ReduceSum", ["lsm", "sum_axes"], ["sum"], name="sum", keepdims=1),
    helper.make_node("Less", ["mean", "sum"], ["less"], name="less"),
    helper.make_node("Greater", ["mean", "sum"], ["greater"], name="greater"),
    helper.make_node("Equal", ["mean", "sum"], ["equal"], name="equal"),
    helper.make_node("Or", ["less", "equal"], ["le"], name="or"),
    helper.make_node("Not", ["greater"], ["ngt"], name="not"),
    helper.make_node("And", ["le", "ngt"], ["both"], name="and"),
    helper.make_node("And", ["both", "flag"], ["cond"], name="and_flag"),
    helper.make_node("Where", ["cond", "lsm", "mean"], ["chosen"], name="where"),
    helper.make_node("Max", ["chosen", "mean", "sum"], ["mx"], name="max3"),
    helper.make_node("Min", ["mx", "sum"], ["mn"], name="min2"),
    helper.make_node("Identity", ["mn"], ["ident"], name="identity"),
    helper.make_node("Dropout", ["ident"], ["dropped"], name="dropout"),
    helper.make_node("Cast", ["dropped"], ["y"], name="cast", to=10),
]
save_model(
    output_path(),
    nodes,
    [tensor_input("x", FLOAT, [4, 8]), tensor_input("flag", BOOL, [4, 1])],
    [tensor_input("y", 10, [4, 16]), tensor_input("max", FLOAT, [4])],
    [
        initializer("w", rng.standard_normal((16, 8)).astype(np.float32)),
        initializer("c", rng.standard_normal(16).astype(np.float32)),
        initializer("gamma", rng.standard_normal(16).astype(np.float32)),
        initializer("beta", rng.standard_normal(16).astype(np.float32)),
        initializer("sum_axes", np.array([1], dtype=np.int64)),
    ],
)

# CHECK-DAG: parc.weight @w = dense_resource<w> : tensor<16x8xf32>
# CHECK-DAG: parc.weight @gamma = dense_resource<gamma> : tensor<16xf32>
# CHECK-LABEL: func.func @main
# CHECK-DAG: %[[HALF:.+]] = parc.constant dense<5.000000e-01> : tensor<f32>
# CHECK-DAG: %[[TWO:.+]] = parc.constant dense<2.000000e+00> : tensor<f32>
# CHECK: %[[W:.+]] = parc.load_weight @w
# CHECK: %[[WT:.+]] = parc.transpose %[[W]], [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
# CHECK: %[[MM:.+]] = parc.matmul %arg0, %[[WT]] : tensor<4x8xf32>, tensor<8x16xf32> -> tensor<4x16xf32>
# CHECK: %[[SCALED:.+]] = parc.mul %[[MM]], %[[HALF]]
# CHECK: %[[C:.+]] = parc.load_weight @c
# CHECK: %[[CS:.+]] = parc.mul %[[C]], %[[TWO]]
# CHECK: %[[GEMM:.+]] = parc.add %[[SCALED]], %[[CS]]
# CHECK: %[[MEAN:.+]] = parc.reduce_mean %[[GEMM]] {axes = array<i64: 1>, keep_dims}
# CHECK: %[[CENTERED:.+]] = parc.sub %[[GEMM]], %[[MEAN]]
# CHECK: %[[SQ:.+]] = parc.mul %[[CENTERED]], %[[CENTERED]]
# CHECK: %[[VAR:.+]] = parc.reduce_mean %[[SQ]] {axes = array<i64: 1>, keep_dims}
# CHECK: %[[VE:.+]] = parc.add %[[VAR]], %{{.+}} : tensor<4x1xf32>, tensor<f32>
# CHECK: %[[STD:.+]] = parc.sqrt %[[VE]]
# CHECK: %[[INV:.+]] = parc.reciprocal %[[STD]]
# CHECK: %[[NORM:.+]] = parc.mul %[[CENTERED]], %[[INV]]
# CHECK: parc.mul %[[NORM]], %{{.+}} : tensor<4x16xf32>, tensor<16xf32>
# CHECK: %[[LN:.+]] = parc.add
# CHECK: %[[LO:.+]] = parc.max %[[LN]]
# CHECK: %[[HI:.+]] = parc.min %[[LO]]
# CHECK: %[[SM:.+]] = parc.softmax %[[HI]] {axis = 1 : i64}
# CHECK: %[[LSM:.+]] = parc.log_softmax %[[SM]] {axis = 0 : i64}
# CHECK: parc.reduce_mean %[[LSM]] {axes = array<i64: 1>, keep_dims} : tensor<4x16xf32> -> tensor<4x1xf32>
# CHECK: %[[RMAX:.+]] = parc.reduce_max %[[LSM]] {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4xf32>
# CHECK: parc.reduce_sum %[[LSM]] {axes = array<i64: 1>, keep_dims}
# CHECK: parc.less
# CHECK: parc.greater
# CHECK: parc.equal
# CHECK: parc.or
# CHECK: parc.not
# CHECK: parc.and
# CHECK: parc.and
# CHECK: parc.select
# CHECK: parc.max
# CHECK: parc.max
# CHECK: %[[MIN:.+]] = parc.min
# CHECK: %[[Y:.+]] = parc.convert %[[MIN]] : tensor<4x16xf32> -> tensor<4x16xf16>
# CHECK: return %[[Y]], %[[RMAX]]
