//===- InstructionParams.h - what an instruction carries --------*- C++ -*-===//
//
// The typed part of the compiler-runtime contract: each instruction of the artifact carries
// exactly the parameters its kind declares in runtime/schema/artifact.proto, nothing copied
// through. Internal to lib/Target/Artifact.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_TARGET_ARTIFACT_INSTRUCTIONPARAMS_H
#define PARC_LIB_TARGET_ARTIFACT_INSTRUCTIONPARAMS_H

#include "parc/artifact/artifact.pb.h"

#include "mlir/IR/Operation.h"

namespace mlir::parc {

/// Sets the params of a compute op's instruction from the op's own (ODS-declared)
/// attributes. The params message follows from which attributes the op declares: `axis`
/// alone is AxisParams (softmax, concat, gather, ...), `axes` and `keep_dims` ReduceParams,
/// `permutation` TransposeParams, `start_indices`, `limit_indices` and `strides`
/// SliceParams, `fmod` ModParams, `tanh_approximation` GeluParams; an op that declares
/// none carries none. An op whose attributes match no params message is an error naming
/// them: the schema must name what an instruction carries. Communication, transfers and
/// fused regions get their params from the writer, which knows the rank.
LogicalResult setComputeParams(Operation *op, ::parc::artifact::Instruction &inst);

/// Records where `op` runs in a pipeline schedule (its parc.chunk, parc.microbatch,
/// parc.backward and parc.recomputed attributes) when it does.
void setScheduleStep(Operation *op, ::parc::artifact::Instruction &inst);

} // namespace mlir::parc

#endif // PARC_LIB_TARGET_ARTIFACT_INSTRUCTIONPARAMS_H
