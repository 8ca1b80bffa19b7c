//===- Passes.td - parc dialect passes ---------------------*- tablegen -*-===//

#ifndef PARC_TRANSFORMS_PASSES_TD
#define PARC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def PlanBuffersPass : Pass<"parc-plan-buffers", "::mlir::func::FuncOp"> {
  let summary = "Assigns every activation an offset in one arena, reusing memory of dead values";
  let description = [{
    Plans the activation memory of a function for the runtime. Values are live from their
    definition to their last use in program order (graph outputs to the end); a reshape is a
    view of its input and extends its lifetime. Values are placed largest first at the lowest
    64-byte-aligned offset that overlaps no placed value whose lifetime intersects. Each
    planned op gets `parc.offset`, and the function `parc.arena_bytes` (the peak). Weights,
    constants and function arguments take no arena memory.

    Before:
    ```mlir
    %0 = parc.exp %arg0 : tensor<256xf32>
    %1 = parc.exp %0 : tensor<256xf32>
    %2 = parc.exp %1 : tensor<256xf32>
    ```
    After (`%2` reuses the bytes of `%0`, which is dead once `%1` exists):
    ```mlir
    %0 = parc.exp %arg0 {parc.offset = 0 : i64} : tensor<256xf32>
    %1 = parc.exp %0 {parc.offset = 1024 : i64} : tensor<256xf32>
    %2 = parc.exp %1 {parc.offset = 0 : i64} : tensor<256xf32>
    ```
  }];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def PropagateShardingPass : Pass<"parc-propagate-sharding", "::mlir::ModuleOp"> {
  let summary = "Derives every value's tensor-parallel layout from the weights' shardings";
  let description = [{
    Walks `@main` in program order and applies the sharding rules (ShardingRules.h) to each
    op, given the layouts of its operands: arguments and literals are replicated, a
    `parc.load_weight` has the layout planned for its weight (`parc.plan` on the weight). Each op gets `parc.sharding`, the layout
    of its result; an op that needs an operand in another layout first (a reshard) also gets
    `parc.reshard`, the layouts it needs. Results of the function must be replicated. The
    module's `parc.mesh` gives the number of tensor-parallel ranks. Used to inspect and test
    the rules the planner relies on; it changes no types.

    Before (tp = 2, w1 split over its columns, w2 over its rows):
    ```mlir
    %h = parc.matmul %x, %w1 : ...
    %y = parc.matmul %h, %w2 : ...
    return %y
    ```
    After:
    ```mlir
    %h = parc.matmul %x, %w1 {parc.sharding = #parc.sharding<split(1)>} : ...
    %y = parc.matmul %h, %w2 {parc.sharding = #parc.sharding<partial>} : ...
    return %y {parc.reshard = [#parc.sharding<replicated>]}
    ```
  }];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def PlanTensorParallelPass : Pass<"parc-plan-tensor-parallel", "::mlir::ModuleOp"> {
  let summary = "Chooses each weight's layout over the tensor-parallel ranks";
  let description = [{
    Runs the tensor-parallel planner (TensorParallelPlanner.h) on `@main` for the `tp` of the
    module's `parc.mesh` and records each chosen split as `parc.plan` on the weight. The
    program itself is unchanged; parc-partition-tensor-parallel rewrites it.

    ```mlir
    parc.weight @w1 = ... : tensor<64x256xf32>
    // becomes
    parc.weight @w1 = ... : tensor<64x256xf32> {parc.plan = #parc.sharding<split(1)>}
    ```
  }];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def PartitionTensorParallelPass
    : Pass<"parc-partition-tensor-parallel", "::mlir::ModuleOp"> {
  let summary = "Rewrites @main into the program every tensor-parallel rank runs";
  let description = [{
    Propagates the planned weight layouts (`parc.plan`) through `@main` and rewrites it into
    a single-program-multiple-data form: every value gets the shape one rank holds, planned
    weights take their `sharding` and load as local shards, and the reshards the sharding
    rules require become collectives (partial -> replicated: `parc.all_reduce`, split ->
    replicated: `parc.all_gather`, partial -> split: `parc.reduce_scatter`, replicated ->
    split: `parc.shard_slice`). Slices along a split dim take their local bounds.

    ```mlir
    %h = parc.matmul %x, %w1 : tensor<8x64xf32>, tensor<64x256xf32> -> tensor<8x256xf32>
    // with w1 split(1) over 2 ranks becomes
    %h = parc.matmul %x, %w1 : tensor<8x64xf32>, tensor<64x128xf32> -> tensor<8x128xf32>
    ```
  }];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def CheckTransfersPass : Pass<"parc-check-transfers", "::mlir::ModuleOp"> {
  let summary = "Checks that the pipeline stages' sends and receives can all finish";
  let description = [{
    Runs the check parc-build-pipeline makes on what it built (TransferCheck.h) on the
    module's stage functions (`func.func` with `parc.stage = s`): under Gloo a send
    finishes once its receiver posted the receive, a receive once its sender started the
    send. Fails at a wait that can never finish.
  }];
}

def AssignPipelineStagesPass
    : Pass<"parc-assign-pipeline-stages", "::mlir::func::FuncOp"> {
  let summary = "Cuts a function into pipeline stages of even modelled time";
  let description = [{
    Runs the stage partitioner (StagePartitioner.h) and records each op's stage as
    `parc.stage`, and on the function the modelled time of each stage
    (`parc.stage_seconds`), the bytes each stage receives (`parc.stage_incoming_bytes`) and
    the imbalance of the heaviest stage against the ideal (`parc.stage_imbalance`).

    ```mlir
    %0 = parc.matmul ... {parc.stage = 0 : i64}
    %1 = parc.matmul ... {parc.stage = 1 : i64}
    ```
  }];
  let options = [
    Option<"stages", "stages", "int64_t", "2", "number of pipeline stages">,
    Option<"weighTransfers", "weigh-transfers", "bool", "true",
           "move the cuts to where fewer bytes cross when that does not slow the slowest "
           "stage (false: the greedy fill's cuts, balancing load alone)">,
  ];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def SplitMicrobatchesPass : Pass<"parc-split-microbatches", "::mlir::ModuleOp"> {
  let summary = "Rewrites @main to process one of `count` microbatches of the batch";
  let description = [{
    The batch is dim 0 of the first graph input; inputs whose dim 0 has that size are split
    into `count` equal microbatches, the others are passed whole. The tensor-parallel
    sharding rules carry the split through the graph (reshapes, matmuls, attention, lookups)
    and @main is rewritten to the shapes of one microbatch. Whole values that meet split ones
    (a folded mask of the whole batch) become `parc.shard_slice {group = "microbatch"}`,
    which the pipeline builder resolves to each microbatch's rows. An op that mixes samples
    (a reduction over the batch) is an error naming it, as is a count that does not divide
    the batch.

    With `count=1` the program stays whole and is only marked for the pipeline build.
    Records on @main: `parc.microbatches`, the whole-batch function type
    (`parc.whole_batch_type`), and on each argument and result `parc.microbatch_layout`:
    split(d) (the microbatches' pieces concatenate along d), replicated (the same in every
    microbatch) or partial (the whole value is the sum over microbatches).
  }];
  let options = [Option<"count", "count", "int64_t", "1", "number of microbatches">];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def BuildPipelinePass : Pass<"parc-build-pipeline", "::mlir::ModuleOp"> {
  let summary = "Cuts @main into pipeline stages and writes each stage's scheduled program";
  let description = [{
    @main is one microbatch's program (after `parc-split-microbatches`, or the whole batch
    as one microbatch). The stage partitioner cuts it into `stages` x `virtual-stages`
    chunks of even modelled time; chunk c runs on pipeline stage c mod `stages`. For every
    stage the pass writes `@stage<s>`, which takes the whole graph inputs and returns the
    graph outputs computed on that stage (`parc.outputs` lists which), and runs, in the
    order the schedule fixes (GPipe or 1F1B, interleaved with virtual stages), each of its
    chunks for each microbatch:

      * the microbatch's rows of the graph inputs (a `parc.slice`),
      * the values computed on other stages, received with `parc.recv` posted one step
        ahead and finished with `parc.recv_wait` just before they are needed,
      * the chunk's ops, each marked with `parc.chunk` and `parc.microbatch`,
      * `parc.send` of what later stages need, finished by `parc.send_wait` before the next
        microbatch's send on the same edge (so one transfer per edge overlaps compute).

    Weights and literals are loaded by every stage that reads them (a tied embedding is
    held by the first and last stages). The outputs are concatenated from the microbatches
    (or summed, for partial sums). @main becomes a declaration of the graph's signature.

    A training step (parc-differentiate with `link-adjoints`, then parc-apply-optimizer)
    is cut by its forward pass alone; each backward op runs in the chunk of the forward op
    it is linked to (`parc.adjoint_of`), as that chunk's backward step, in the schedule's
    order (backward steps carry `parc.backward`). Activations stay on their stage until
    their microbatch's backward used them; gradients flow back through the same transfers.
    What runs once per step follows the last step: an `all_reduce` over the "microbatch"
    axis becomes the sum over the microbatches on the stage that computes them (sent on to
    other stages that need it, such as a tied weight's second holder), and every update
    (`parc.assign_weight`, with what it needs) runs on each stage holding the weight (an
    optimizer state on the stages of its `parc.state_of` weight).

    Activation recomputation (`recompute`, see Recompute.h): a backward step first
    computes again the forward ops the policy chose (marked `parc.recomputed`) and its
    backward ops read those copies, so the forward step's values die once sent; `auto`
    chooses per chunk under `memory-budget` over the stage's microbatches in flight. The
    plan records the FLOPs each stage recomputes per step.
    The module gets `parc.mesh` with pp = `stages` and `parc.pipeline`, the plan for
    reports: each chunk's modelled seconds, ops, weight and incoming bytes, the imbalance
    and the simulated step time and bubble.
  }];
  let options = [
    Option<"stages", "stages", "int64_t", "1", "number of pipeline stages">,
    Option<"virtualStages", "virtual-stages", "int64_t", "1",
           "model chunks per stage (interleaved 1F1B)">,
    Option<"schedule", "schedule", "std::string", "\"1f1b\"", "gpipe or 1f1b">,
    Option<"memoryLimit", "memory-limit", "int64_t", "0",
           "weight bytes one stage may hold (0: no limit)">,
    Option<"recompute", "recompute", "std::string", "\"none\"",
           "activations a backward step recomputes: none, full, selective or auto">,
    Option<"memoryBudget", "memory-budget", "int64_t", "0",
           "activation bytes one stage may keep (recompute=auto)">,
  ];
  let dependentDialects = ["::mlir::parc::ParcDialect", "::mlir::func::FuncDialect"];
}

def DifferentiatePass : Pass<"parc-differentiate", "::mlir::ModuleOp"> {
  let summary = "Appends to @main the gradients of its first result (reverse-mode autodiff)";
  let description = [{
    Differentiates the sum of @main's first result (a scalar loss: its plain gradient) with
    respect to every float weight (`wrt=weights`, one gradient per weight symbol, summed
    over its loads) or every float argument (`wrt=arguments`), and returns the gradients as
    extra results named `grad:<weight or input name>`. The backward ops follow the forward
    ops in reverse order; each op's rule is in GradientRules.cpp (broadcast operands get the
    gradient summed back to their shape; gather's table gets a `parc.scatter_add`). A
    value's gradient is the sum over its uses. An op without a rule on the path from a
    leaf to the loss is an error naming it; a leaf the loss does not depend on gets zeros
    and the result attribute `parc.unreached`.

    ```mlir
    // y = sum(x * w)  gives  (y, grad:w = x)
    ```
  }];
  let options = [Option<"wrt", "wrt", "std::string", "\"weights\"",
                        "differentiate with respect to: weights or arguments">,
                 Option<"linkAdjoints", "link-adjoints", "bool", "false",
                        "mark each backward op with the forward op whose rule built it "
                        "(parc.adjoint_of = the forward op's parc.op_id), for "
                        "parc-build-pipeline">];
  let dependentDialects = ["::mlir::parc::ParcDialect", "::mlir::func::FuncDialect"];
}

def AddLossPass : Pass<"parc-add-loss", "::mlir::ModuleOp"> {
  let summary = "Replaces @main's results by a training loss on its first output";
  let description = [{
    Adds the graph input `labels` and makes @main return one f32 scalar, `loss`:
    `cross_entropy` (labels: int64 class indices shaped like the logits without their last
    dim; the mean over all positions of -log_softmax(logits)[label], as
    torch.nn.functional.cross_entropy) or `mse` (labels shaped like the output; the mean of
    the squared difference).
  }];
  let options = [Option<"loss", "loss", "std::string", "\"cross_entropy\"",
                        "cross_entropy or mse">];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def ApplyOptimizerPass : Pass<"parc-apply-optimizer", "::mlir::ModuleOp"> {
  let summary = "Turns weight gradients into one optimizer step (SGD or AdamW)";
  let description = [{
    Takes @main as parc-differentiate leaves it (the loss, then `grad:<weight>` results) and
    writes each reached weight's update back with `parc.assign_weight`, following PyTorch's
    formulas: torch.optim.SGD (momentum, weight decay, no dampening or Nesterov) and
    torch.optim.AdamW (bias-corrected moments, decoupled weight decay). Optimizer state
    (momentum buffers, exp_avg, exp_avg_sq, the step count) becomes zero-initialized weights
    marked `parc.optimizer_state`, named `<weight>.momentum_buffer`, `<weight>.exp_avg`,
    `<weight>.exp_avg_sq` and `optimizer.step`. Weights the loss does not reach (their
    gradient is marked `parc.unreached`) are left alone, as PyTorch leaves parameters
    without a gradient. When @main is one of `parc.microbatches` microbatches (a pipelined
    program), the loss and every gradient are first averaged over the microbatches (an
    `all_reduce` over the "microbatch" axis, which parc-build-pipeline accumulates); with a
    dp mesh axis, then over the dp ranks (an all-reduce). The dp sums of an unpipelined
    program's gradients go in buckets of `bucket-bytes` (GradientBuckets.h): each bucket's
    `parc.all_reduce_start` follows the op completing its last gradient, so the sums overlap
    the rest of the backward pass, and its `parc.all_reduce_wait` precedes the updates.
    State weights name the weight they belong to in `parc.state_of`. With `zero=1` (ZeRO
    stage 1, Rajbhandari et al. 2020) each dp rank reduce-scatters every flattened (padded)
    gradient, updates only its part of the weight with state for that part only (state
    weights of the flattened padded shape marked `parc.dp_split`: the artifact gives each
    dp rank its part) and all-gathers the updated weight. @main then
    returns the loss alone and is marked `parc.training`.
  }];
  let options = [
    Option<"optimizer", "optimizer", "std::string", "\"sgd\"", "sgd or adamw">,
    Option<"learningRate", "lr", "double", "1e-3", "learning rate">,
    Option<"momentum", "momentum", "double", "0", "SGD momentum">,
    Option<"weightDecay", "weight-decay", "double", "0", "weight decay">,
    Option<"beta1", "beta1", "double", "0.9", "AdamW beta1">,
    Option<"beta2", "beta2", "double", "0.999", "AdamW beta2">,
    Option<"epsilon", "eps", "double", "1e-8", "AdamW epsilon">,
    Option<"zero", "zero", "int64_t", "0",
           "ZeRO stage: 1 shards the optimizer state over the dp ranks (reduce-scatter of "
           "the gradients, all-gather of the updated weights)">,
    Option<"bucketBytes", "bucket-bytes", "int64_t", "26214400",
           "data parallelism: gradient bytes per all-reduce bucket (0: one blocking "
           "all-reduce per gradient)">,
  ];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def SetMeshPass : Pass<"parc-set-mesh", "::mlir::ModuleOp"> {
  let summary = "Gives the module its mesh: the data- and tensor-parallel ranks";
  let description = [{
    Sets the module's `parc.mesh` to `{dp = dp, pp = 1, tp = tp}` (parc-build-pipeline
    sets pp later): the axes the partitioning passes split over. The first pass of
    parc-compile's flow when dp or tp exceeds 1.

    ```mlir
    // parc-opt -parc-set-mesh="dp=2 tp=2"
    module attributes {parc.mesh = {dp = 2 : i64, pp = 1 : i64, tp = 2 : i64}} { ... }
    ```
  }];
  let options = [
    Option<"dp", "dp", "int64_t", "1", "data-parallel ranks">,
    Option<"tp", "tp", "int64_t", "1", "tensor-parallel ranks">,
  ];
}

def PartitionDataParallelPass : Pass<"parc-partition-data-parallel", "::mlir::ModuleOp"> {
  let summary = "Rewrites @main to one data-parallel rank's share of the batch";
  let description = [{
    With a mesh of dp > 1 ranks, splits the batch (dim 0 of the inputs that carry it) into
    dp equal parts as parc-split-microbatches does, over the mesh axis "dp": @main and every
    pass after it see one rank's program, and the arguments and results record their layout
    (`parc.microbatch_layout`). parc-finish-data-parallel restores the global signature.
  }];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def FinishDataParallelPass : Pass<"parc-finish-data-parallel", "::mlir::ModuleOp"> {
  let summary = "Gives a data-parallel @main back the global batch's inputs and outputs";
  let description = [{
    Every input split over "dp" takes the global batch again and each rank slices its rows
    (`parc.shard_slice {group = "dp"}`); split outputs are all-gathered and partial ones
    all-reduced over "dp", so every rank returns the global result. A training loss was
    already averaged over the dp group by parc-apply-optimizer. After parc-build-pipeline
    it rewrites every stage function (by @main's layouts) and @main's declaration.
  }];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def FusePass : Pass<"parc-fuse", "::mlir::func::FuncOp"> {
  let summary = "Groups elementwise ops and last-dim reductions into parc.fused regions";
  let description = [{
    Walks the ops in program order and puts every fusible op (elementwise ops, reductions
    over the last dim keeping it, softmax and log-softmax over the last dim) into a
    group: the group of its latest operand's producer when the op fits that group's
    domain, else a new one. An op fits when its result has the domain's shape, or the
    domain's shape with the last dim 1 (a per-row value: a reduction's result, and the
    ops on it), and when no op outside the group reads one of the group's values before
    this op (the fused op takes this op's place, so such a reader would come first).
    Inputs from outside broadcast (numpy rules) to the op that reads them. Each group
    becomes one `parc.fused` ("row" if it reduces, else "elementwise") taking the values it
    reads from outside and returning those read outside; single ops become groups of one.
    Layer norm (mean, centring, variance, scaling), softmax with its scaling and mask, bias
    + GELU and residual adds each become one group. First, a matmul whose only use adds a
    bias along its last dim (and a tanh-approximated parc.gelu after it, if it is the
    sum's only use) becomes a "gemm" group: cuBLASLt's bias (bias + GELU) epilogue.
  }];
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

def InlineFusedPass : Pass<"parc-inline-fused", "::mlir::func::FuncOp"> {
  let summary = "Replaces each parc.fused by its body's ops (how the CPU backend runs it)";
  let dependentDialects = ["::mlir::parc::ParcDialect"];
}

#endif // PARC_TRANSFORMS_PASSES_TD
