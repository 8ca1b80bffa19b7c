// RUN: parc-opt %s -split-input-file -parc-check-transfers -verify-diagnostics

// A send finishes once the receiver has posted the receive: stage 1 waits for its first
// send (tag 0) before starting the second (tag 1), but stage 0 posts tag 0's receive only
// after waiting for tag 1. Neither can go on.
module {
  func.func @stage0(%x: tensor<2xf32>) attributes {parc.stage = 0 : i64} {
    %late = parc.recv {stage = 1 : i64, tag = 1 : i64} : tensor<2xf32>
    // expected-error @+1 {{internal error: the pipeline's transfers cannot all finish: stage 0 waits for tag 1 from stage 1, which never happens}}
    %b = parc.recv_wait %late : tensor<2xf32>
    %early = parc.recv {stage = 1 : i64, tag = 0 : i64} : tensor<2xf32>
    %a = parc.recv_wait %early : tensor<2xf32>
    return
  }
  func.func @stage1(%x: tensor<2xf32>) attributes {parc.stage = 1 : i64} {
    parc.send %x {stage = 0 : i64, tag = 0 : i64} : tensor<2xf32>
    // expected-note @+1 {{stage 1 is stuck here}}
    parc.send_wait %x {stage = 0 : i64, tag = 0 : i64} : tensor<2xf32>
    parc.send %x {stage = 0 : i64, tag = 1 : i64} : tensor<2xf32>
    parc.send_wait %x {stage = 0 : i64, tag = 1 : i64} : tensor<2xf32>
    return
  }
}

// -----

// The same transfers with the receives posted up front finish.
module {
  func.func @stage0(%x: tensor<2xf32>) attributes {parc.stage = 0 : i64} {
    %late = parc.recv {stage = 1 : i64, tag = 1 : i64} : tensor<2xf32>
    %early = parc.recv {stage = 1 : i64, tag = 0 : i64} : tensor<2xf32>
    %b = parc.recv_wait %late : tensor<2xf32>
    %a = parc.recv_wait %early : tensor<2xf32>
    return
  }
  func.func @stage1(%x: tensor<2xf32>) attributes {parc.stage = 1 : i64} {
    parc.send %x {stage = 0 : i64, tag = 0 : i64} : tensor<2xf32>
    parc.send_wait %x {stage = 0 : i64, tag = 0 : i64} : tensor<2xf32>
    parc.send %x {stage = 0 : i64, tag = 1 : i64} : tensor<2xf32>
    parc.send_wait %x {stage = 0 : i64, tag = 1 : i64} : tensor<2xf32>
    return
  }
}

// -----

// A receive nobody sends.
module {
  func.func @stage0(%x: tensor<2xf32>) attributes {parc.stage = 0 : i64} {
    %r = parc.recv {stage = 1 : i64, tag = 7 : i64} : tensor<2xf32>
    // expected-error @+1 {{stage 0 waits for tag 7 from stage 1, which never happens}}
    %v = parc.recv_wait %r : tensor<2xf32>
    return
  }
  func.func @stage1(%x: tensor<2xf32>) attributes {parc.stage = 1 : i64} {
    return
  }
}
