// RUN: rm -rf %t && mkdir -p %t
// RUN: parc-compile %s -o %t/model.parc
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', np.ones((3, 2), np.float32))"
// RUN: not parc-run %t/model.parc --input x=%t/x.npy --output-dir %t/out --timeout 60 2>&1 | FileCheck %s
// RUN: not ls %t/out/y.npy
//
// When one rank fails (rank 1 reads an index past the table; rank 0 is fine and waits in
// all_reduce for it), parc-run stops every rank at once, reports the failing rank's error
// with its node, and writes no output.
// CHECK: parc-run: error: rank 1: node 'lookup' (gather): gather: index 5 is out of range for a dim of size 3
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  parc.weight @rows = dense<[0, 5]> : tensor<2xi64> {sharding = #parc.sharding<split(0)>}
  func.func @main(%x: tensor<3x2xf32> {parc.name = "x"}) -> (tensor<1x2xf32> {parc.name = "y"}) {
    %rows = parc.load_weight @rows : tensor<1xi64>
    %picked = parc.gather %x[%rows] {axis = 0 : i64} : tensor<3x2xf32>, tensor<1xi64> -> tensor<1x2xf32> loc("lookup")
    %y = parc.all_reduce %picked {group = "tp"} : tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}
