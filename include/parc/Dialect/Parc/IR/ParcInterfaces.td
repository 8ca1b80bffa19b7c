//===- ParcInterfaces.td - what each op knows about itself -*- tablegen -*-===//
//
// The per-op knowledge that analyses and transformations ask of an op without knowing it by
// name: how it runs on sharded operands (tensor parallelism), how to differentiate it
// (training), and what it costs (the planners' cost model). Every op of the dialect either
// implements each interface or declares, with a trait, that it has no such rule;
// unittests/OpInterfacesTest.cpp checks that none is left without one.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_PARCINTERFACES_TD
#define PARC_DIALECT_PARC_IR_PARCINTERFACES_TD

include "mlir/IR/OpBase.td"

def Parc_ShardingOpInterface : OpInterface<"ShardingOpInterface"> {
  let cppNamespace = "::mlir::parc";
  let description = [{
    How the op runs over the ranks of the tensor-parallel axis: given the layouts of its
    operands (replicated, split along a dim, or partial sums), the layout each operand must
    have (the given one, or a reshard: partial -> replicated is an all-reduce, split ->
    replicated an all-gather, replicated -> split a local slice) and the layout of the
    result it then computes locally. Rules reason about what the op computes (which dims a
    matmul contracts, which dims a reshape merges), never about names. They never fail:
    when nothing better is local, every operand becomes replicated.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"The layouts the op needs of its operands and the layout of its result "
               "when its operands have the layouts `operands`, over `ranks` ranks.",
      /*retTy=*/"::mlir::parc::ShardingDecision",
      /*methodName=*/"decideSharding",
      /*args=*/(ins "::llvm::ArrayRef<::mlir::parc::ShardingAttr>":$operands,
                    "int64_t":$ranks)>
  ];
}

def Parc_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::mlir::parc";
  let description = [{
    Reverse-mode differentiation: given the gradient of (the sum of a scalar loss with
    respect to) the op's result, builds the gradients with respect to the operands autodiff
    needs, in parc ops. `GradientBuilder` (GradientBuilder.h) holds the op, the result's
    gradient and which operands are needed, builds the ops, and takes each operand's
    gradient (`set` sums a broadcast operand's gradient back to its shape).
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"Builds the gradients of the needed operands with `gradients`. Fails with "
               "an error at the op when its rule does not cover these operands.",
      /*retTy=*/"::llvm::LogicalResult",
      /*methodName=*/"buildGradients",
      /*args=*/(ins "::mlir::parc::GradientBuilder &":$gradients)>
  ];
}

def Parc_CostOpInterface : OpInterface<"CostOpInterface"> {
  let cppNamespace = "::mlir::parc";
  let description = [{
    What the op costs where it runs: its arithmetic (FLOPs, a multiply-add counting 2) and
    the bytes it reads and writes. The default is one operation per result element, the
    operands read once and the results written once: elementwise ops and data movement.
    Ops that do more (a matmul's 2 m n k, a reduction's every input element) say so. Every
    planner prices work with this one count (getOpCost in ParcInterfaces.h).
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"The op's FLOPs and the bytes it reads and writes.",
      /*retTy=*/"::mlir::parc::OpCost",
      /*methodName=*/"getCost",
      /*args=*/(ins),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        return ::mlir::parc::elementwiseCost($_op.getOperation());
      }]>
  ];
}

/// Runs on whole tensors only: every operand replicated over the tensor-parallel ranks, and
/// the result replicated. The explicit form of "no sharding rule" (constants, collectives
/// and transfers, which the partitioner inserts, ops whose layouts no rule covers yet).
def Parc_ReplicatedSharding : NativeOpTrait<"ReplicatedSharding"> {
  let cppNamespace = "::mlir::parc";
}

/// Its result carries no gradient: boolean and integer results (comparisons, logic),
/// weights' declarations, and ops that only exist after the backward pass is built
/// (transfers, fused regions). Autodiff never asks it for one.
def Parc_NoGradient : NativeOpTrait<"NoGradient"> {
  let cppNamespace = "::mlir::parc";
}

/// Differentiable in principle, but parc has no rule for it yet: differentiating through
/// it is an error naming the op ("no gradient rule for ...").
def Parc_NoGradientRule : NativeOpTrait<"NoGradientRule"> {
  let cppNamespace = "::mlir::parc";
}

/// Computes each result element from the operand elements at the same (broadcast)
/// coordinates: the CUDA fusion may put it in an elementwise or row kernel, whose
/// expression for it KernelEmitter.cpp writes (lib/Transforms/Fusion/Fuse.cpp).
def Parc_ElementwiseKernel : NativeOpTrait<"ElementwiseKernel"> {
  let cppNamespace = "::mlir::parc";
}

#endif // PARC_DIALECT_PARC_IR_PARCINTERFACES_TD
