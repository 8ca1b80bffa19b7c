// RUN: parc-opt %s -split-input-file -verify-diagnostics -parc-build-pipeline="stages=2 virtual-stages=2 schedule=gpipe"

// Interleaving is a form of 1F1B.
// expected-error @+1 {{--virtual-stages=2 needs --schedule=1f1b (interleaved 1F1B)}}
func.func @main(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = parc.exp %x : tensor<4x16xf32>
  %1 = parc.exp %0 : tensor<4x16xf32>
  %2 = parc.exp %1 : tensor<4x16xf32>
  %3 = parc.exp %2 : tensor<4x16xf32>
  return %3 : tensor<4x16xf32>
}
