// RUN: rm -rf %t && mkdir -p %t
// RUN: parc-compile %s -o %t/model.parc
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', np.ones((4,), np.float32))"
// RUN: not env PARC_RUN_CRASH_RANK=1 parc-run %t/model.parc --input x=%t/x.npy --output-dir %t/out --timeout 60 2>&1 | FileCheck %s
// RUN: not ls %t/out/y.npy
//
// A rank that crashes (here made to abort once connected) leaves no error of its own; its
// peer fails in the all-reduce, having lost its connection. parc-run reports the peer's
// error and names the crash, the likely cause.
// CHECK: parc-run: error: rank 0: {{.*}}; rank 1 died with signal 6 (Aborted)
module attributes {parc.mesh = {dp = 1 : i64, pp = 1 : i64, tp = 2 : i64}} {
  func.func @main(%x: tensor<4xf32> {parc.name = "x"}) -> (tensor<4xf32> {parc.name = "y"}) {
    %y = parc.all_reduce %x {group = "tp"} : tensor<4xf32>
    return %y : tensor<4xf32>
  }
}
