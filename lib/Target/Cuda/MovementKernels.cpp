//===- MovementKernels.cpp - CUDA kernels for data-movement ops ------------===//
//
// Every op of a CUDA program that is not a fused region, a GEMM, a view or communication
// moves data: transposes, slices, concatenations, broadcasts, gathers, the tensor-parallel
// shard ops, reductions over dims other than the last, and running sums. Each becomes one
// kernel: a
// grid-stride loop over the result's elements that turns the flat index into coordinates
// and reads the input element those coordinates come from. Copies move the stored bits
// (a type of the element's size), so one kernel shape serves every element type.
//
//===----------------------------------------------------------------------===//

#include "parc/Target/Cuda/KernelEmitter.h"

#include "KernelSupport.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::parc;

namespace {

/// Literals carry no suffix: index arithmetic takes its width from `parc_index`, the type
/// each kernel declares (int when its tensors allow, else long long), and a literal
/// above int's range is a long long by C++'s rules.
std::string literal(int64_t value) { return std::to_string(value); }

/// The unsigned type of an element's size: copies move bits, not values.
FailureOr<std::string> bitsType(Type type, Operation *where) {
  Type element = cast<RankedTensorType>(type).getElementType();
  unsigned width = element.isInteger(1) ? 8 : element.getIntOrFloatBitWidth();
  switch (width) {
  case 8: return std::string("unsigned char");
  case 16: return std::string("unsigned short");
  case 32: return std::string("unsigned int");
  case 64: return std::string("unsigned long long");
  }
  return where->emitOpError("element type ") << element << " has no CUDA kernel";
}

/// The type an index tensor is read as.
std::string indexType(Value indices) {
  return cast<RankedTensorType>(indices.getType()).getElementType().isInteger(64) ? "long long"
                                                                                   : "int";
}

/// Declares c0..c{n-1}: the coordinates of flat index `i` in `shape` (row-major).
std::string coordinates(ArrayRef<int64_t> shape) {
  std::string code;
  int64_t stride = 1;
  SmallVector<std::string> lines(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    lines[d] = "    parc_index c" + std::to_string(d) + " = (i / " + literal(stride) + ") % " +
               literal(shape[d]) + ";\n";
    stride *= shape[d];
  }
  for (const std::string &line : lines)
    code += line;
  return code;
}

/// The row-major flat offset of coordinate expressions `coords` in `shape`.
std::string flatOffset(ArrayRef<std::string> coords, ArrayRef<int64_t> shape) {
  std::string offset = "0";
  int64_t stride = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (shape[d] != 1)
      offset += " + (" + coords[d] + ") * " + literal(stride);
    stride *= shape[d];
  }
  return offset;
}

std::string coordinate(int64_t d) { return "c" + std::to_string(d); }

ArrayRef<int64_t> shapeOf(Value v) { return cast<RankedTensorType>(v.getType()).getShape(); }

class MovementEmitter {
public:
  MovementEmitter(Operation *op, StringRef name, int64_t rank, int64_t ranks)
      : op(op), rank(rank), ranks(ranks) {
    kernel.name = name.str();
  }

  FailureOr<CudaKernel> emit();

private:
  /// The loop body reading the result's element at coordinates c0..: statements ending in
  /// a store to out0[i].
  FailureOr<std::string> body();
  FailureOr<std::string> reductionBody();
  FailureOr<std::string> scanBody(CumSumOp scan);
  FailureOr<std::string> topKBody(TopKOp topK);
  /// A transpose that moves the input's last dim (K^T, head splits): through 32 x 32
  /// tiles in shared memory, so that reads and writes are both along a contiguous dim.
  FailureOr<CudaKernel> tiledTranspose(TransposeOp transpose, const std::string &parameters,
                                       bool narrow);
  /// `out0[i] = in<k>[<offset>];`
  std::string copyFrom(int input, const std::string &offset) const {
    return "    out0[i] = in" + std::to_string(input) + "[" + offset + "];\n";
  }

  Operation *op;
  int64_t rank, ranks;
  CudaKernel kernel;
};

FailureOr<std::string> MovementEmitter::body() {
  ArrayRef<int64_t> out = shapeOf(op->getResult(0));
  int64_t outRank = out.size();
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    // Result dim d is input dim permutation[d].
    ArrayRef<int64_t> permutation = transpose.getPermutation();
    SmallVector<std::string> coords(outRank);
    for (int64_t d = 0; d < outRank; ++d)
      coords[permutation[d]] = coordinate(d);
    return copyFrom(0, flatOffset(coords, shapeOf(transpose.getInput())));
  }
  if (auto slice = dyn_cast<SliceOp>(op)) {
    SmallVector<std::string> coords;
    for (int64_t d = 0; d < outRank; ++d)
      coords.push_back(literal(slice.getStartIndices()[d]) + " + " + coordinate(d) + " * " +
                       literal(slice.getStrides()[d]));
    return copyFrom(0, flatOffset(coords, shapeOf(slice.getInput())));
  }
  if (auto broadcast = dyn_cast<BroadcastToOp>(op)) {
    // Numpy rules, aligned to the right: size-1 input dims read coordinate 0.
    ArrayRef<int64_t> in = shapeOf(broadcast.getInput());
    int64_t offset = outRank - static_cast<int64_t>(in.size());
    SmallVector<std::string> coords;
    for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d)
      coords.push_back(in[d] == 1 ? "0" : coordinate(d + offset));
    return copyFrom(0, flatOffset(coords, in));
  }
  if (auto concat = dyn_cast<ConcatOp>(op)) {
    // The operand holding the element: the first whose end along the axis is past it.
    int64_t axis = concat.getAxis();
    std::string code;
    int64_t begin = 0;
    for (auto [k, input] : llvm::enumerate(concat.getInputs())) {
      ArrayRef<int64_t> in = shapeOf(input);
      SmallVector<std::string> coords;
      for (int64_t d = 0; d < outRank; ++d)
        coords.push_back(d == axis ? coordinate(d) + " - " + literal(begin) : coordinate(d));
      int64_t end = begin + in[axis];
      bool last = k + 1 == concat.getInputs().size();
      code += std::string(k ? "    else " : "    ") +
              (last ? "" : "if (" + coordinate(axis) + " < " + literal(end) + ") ") + "\n  " +
              copyFrom(k, flatOffset(coords, in));
      begin = end;
    }
    return code;
  }
  if (isa<GatherOp, ShardGatherOp>(op)) {
    // Result coordinates: input dims before the axis, the index's dims, input dims after.
    Value input = op->getOperand(0), indices = op->getOperand(1);
    int64_t axis = isa<GatherOp>(op) ? cast<GatherOp>(op).getAxis()
                                     : cast<ShardGatherOp>(op).getAxis();
    ArrayRef<int64_t> in = shapeOf(input), index = shapeOf(indices);
    int64_t indexRank = index.size();
    SmallVector<std::string> indexCoords;
    for (int64_t d = 0; d < indexRank; ++d)
      indexCoords.push_back(coordinate(axis + d));
    // A shard holds rows [rank * local, (rank + 1) * local) of the whole table.
    bool shard = isa<ShardGatherOp>(op);
    int64_t local = in[axis], whole = shard ? local * ranks : local;
    std::string code = "    long long k = (long long)in1[" + flatOffset(indexCoords, index) +
                       "];\n    if (k < 0) k += " + literal(whole) + ";\n";
    if (shard)
      code += "    k -= " + literal(rank * local) + ";\n";
    SmallVector<std::string> coords;
    for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d)
      coords.push_back(d < axis ? coordinate(d)
                       : d == axis ? std::string("k")
                                   : coordinate(d - 1 + indexRank));
    // Out of range (or, for a shard, outside its block): zero, as the CPU backend's shard
    // gather; the CPU backend reports an out-of-range index of a whole table as an error.
    code += "    out0[i] = (k >= 0 && k < " + literal(local) + ") ? in0[" +
            flatOffset(coords, in) + "] : 0;\n";
    return code;
  }
  if (auto gather = dyn_cast<GatherElementsOp>(op)) {
    // The result's coordinates, with the index at the same coordinates along the axis.
    ArrayRef<int64_t> in = shapeOf(gather.getInput());
    int64_t axis = gather.getAxis();
    SmallVector<std::string> coords;
    for (int64_t d = 0; d < outRank; ++d)
      coords.push_back(d == axis ? std::string("k") : coordinate(d));
    return "    long long k = (long long)in1[i];\n    if (k < 0) k += " + literal(in[axis]) +
           ";\n    out0[i] = (k >= 0 && k < " + literal(in[axis]) + ") ? in0[" +
           flatOffset(coords, in) + "] : 0;\n";
  }
  if (auto shardSlice = dyn_cast<ShardSliceOp>(op)) {
    // The axis is [groups, ranks, block]; this rank keeps [:, rank, :].
    int64_t axis = shardSlice.getAxis(), groups = shardSlice.getGroups();
    ArrayRef<int64_t> in = shapeOf(shardSlice.getInput());
    int64_t block = in[axis] / (groups * ranks);
    SmallVector<std::string> coords;
    for (int64_t d = 0; d < outRank; ++d)
      coords.push_back(d == axis ? "(" + coordinate(d) + " / " + literal(block) + ") * " +
                                       literal(ranks * block) + " + " + literal(rank * block) +
                                       " + " + coordinate(d) + " % " + literal(block)
                                 : coordinate(d));
    return copyFrom(0, flatOffset(coords, in));
  }
  if (auto scan = dyn_cast<CumSumOp>(op))
    return scanBody(scan);
  if (auto topK = dyn_cast<TopKOp>(op))
    return topKBody(topK);
  return reductionBody();
}

/// A running sum: each result element adds the input along the axis up to its own
/// coordinate, in order (as the CPU backend does, so f32 results are the same bits).
FailureOr<std::string> MovementEmitter::scanBody(CumSumOp scan) {
  ArrayRef<int64_t> in = shapeOf(scan.getInput());
  FailureOr<ElementKind> kind = kindOf(scan.getType(), op);
  if (failed(kind))
    return failure();
  int64_t axis = scan.getAxis();
  SmallVector<std::string> coords;
  for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d)
    coords.push_back(d == axis ? std::string("r") : coordinate(d));
  return "    " + kind->compute + " total = 0;\n" +
         "    for (parc_index r = 0; r <= " + coordinate(axis) + "; ++r)\n" +
         "      total += " + kind->load("in0[" + flatOffset(coords, in) + "]") + ";\n" +
         "    out0[i] = " + kind->store("total") + ";\n";
}

/// Top k: result element j of a line is the position r whose value has exactly j others
/// before it in the order (larger first, or smaller; equal values by position), found by
/// counting: O(length^2) per element, stateless, for the short lines of routers and
/// samplers.
FailureOr<std::string> MovementEmitter::topKBody(TopKOp topK) {
  ArrayRef<int64_t> in = shapeOf(topK.getInput());
  FailureOr<ElementKind> kind = kindOf(topK.getInput().getType(), op);
  FailureOr<ElementKind> positions = kindOf(topK.getType(), op);
  if (failed(kind) || failed(positions))
    return failure();
  int64_t axis = topK.getAxis();
  auto offsetAt = [&](const std::string &position) {
    SmallVector<std::string> coords;
    for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d)
      coords.push_back(d == axis ? position : coordinate(d));
    return "in0[" + flatOffset(coords, in) + "]";
  };
  std::string before = topK.getLargest() ? ">" : "<";
  std::string length = literal(in[axis]);
  return "    parc_index pick = 0;\n"
         "    for (parc_index r = 0; r < " + length + "; ++r) {\n"
         "      " + kind->compute + " x = " + kind->load(offsetAt("r")) + ";\n"
         "      parc_index ahead = 0;\n"
         "      for (parc_index s = 0; s < " + length + "; ++s) {\n"
         "        " + kind->compute + " other = " + kind->load(offsetAt("s")) + ";\n"
         "        ahead += (other " + before + " x || (other == x && s < r)) ? 1 : 0;\n"
         "      }\n"
         "      if (ahead == " + coordinate(axis) + ") { pick = r; break; }\n"
         "    }\n"
         "    out0[i] = " + positions->store("pick") + ";\n";
}

/// A reduction over any axes: each result element loops over the input elements reduced
/// into it, accumulating in f32 (or the integer type) in one thread.
FailureOr<std::string> MovementEmitter::reductionBody() {
  if (!isa<ReduceSumOp, ReduceMeanOp, ReduceMaxOp>(op))
    return op->emitOpError("has no CUDA kernel");
  Value input = op->getOperand(0);
  ArrayRef<int64_t> in = shapeOf(input);
  auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes").asArrayRef();
  bool keepDims = op->hasAttr("keep_dims");
  FailureOr<ElementKind> kind = kindOf(input.getType(), op);
  if (failed(kind))
    return failure();
  // Result coordinate of each kept input dim; the reduced dims are walked by `r`.
  SmallVector<std::string> coords(in.size());
  SmallVector<int64_t> reducedShape;
  int64_t outDim = 0, reduced = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d) {
    if (llvm::is_contained(axes, d)) {
      reducedShape.push_back(in[d]);
      reduced *= in[d];
      if (keepDims)
        ++outDim;
      continue;
    }
    coords[d] = coordinate(outDim++);
  }
  std::string code;
  int64_t stride = 1;
  for (int64_t k = static_cast<int64_t>(reducedShape.size()) - 1; k >= 0; --k) {
    int64_t d = axes[k];
    coords[d] = "((r / " + literal(stride) + ") % " + literal(reducedShape[k]) + ")";
    stride *= reducedShape[k];
  }
  bool max = isa<ReduceMaxOp>(op);
  code += "    " + kind->compute + " total = 0;\n";
  code += "    for (parc_index r = 0; r < " + literal(reduced) + "; ++r) {\n";
  code += "      " + kind->compute + " x = " + kind->load("in0[" + flatOffset(coords, in) + "]") +
          ";\n";
  // The maximum starts from the first element (no identity value per type needed).
  code += max ? "      total = (r == 0 || x > total) ? x : total;\n" : "      total += x;\n";
  code += "    }\n";
  if (isa<ReduceMeanOp>(op))
    code += "    total = total / " + literal(reduced) + ";\n";
  code += "    out0[i] = " + kind->store("total") + ";\n";
  return code;
}

FailureOr<CudaKernel> MovementEmitter::emit() {
  Value result = op->getResult(0);
  ArrayRef<int64_t> out = shapeOf(result);
  kernel.elements = cast<RankedTensorType>(result.getType()).getNumElements();
  bool reduction = isa<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, CumSumOp, TopKOp>(op);
  // Parameters: the inputs, then the result. Copies move bits; index tensors,
  // reductions and running sums use their value types.
  std::string parameters;
  for (auto [k, operand] : llvm::enumerate(op->getOperands())) {
    bool indices = k == 1 && isa<GatherOp, ShardGatherOp, GatherElementsOp>(op);
    FailureOr<std::string> type = std::string();
    if (indices)
      type = indexType(operand);
    else if (reduction)
      type = FailureOr<std::string>(kindOf(operand.getType(), op)->storage);
    else
      type = bitsType(operand.getType(), op);
    if (failed(type))
      return failure();
    parameters += "const " + *type + " * __restrict__ in" + std::to_string(k) + ", ";
  }
  FailureOr<std::string> resultType =
      reduction ? FailureOr<std::string>(kindOf(result.getType(), op)->storage)
                : bitsType(result.getType(), op);
  if (failed(resultType))
    return failure();
  parameters += *resultType + " * __restrict__ out0";
  // 32-bit index arithmetic (64-bit division costs several times more) when every
  // tensor has at most 2^30 elements, room for the grid-stride loop's last step.
  bool narrow = true;
  for (Value v : llvm::concat<Value>(op->getOperands(), op->getResults()))
    narrow &= cast<RankedTensorType>(v.getType()).getNumElements() <= (int64_t(1) << 30);
  if (auto transpose = dyn_cast<TransposeOp>(op);
      transpose && transpose.getPermutation().back() != static_cast<int64_t>(out.size()) - 1)
    return tiledTranspose(transpose, parameters, narrow);
  FailureOr<std::string> loopBody = body();
  if (failed(loopBody))
    return failure();
  kernel.source =
      std::string(kPrelude) + "\nextern \"C\" __global__ void __launch_bounds__(" +
      std::to_string(kernel.blockSize) + ") " + kernel.name + "(" + parameters + ") {\n" +
      "  typedef " + (narrow ? "int" : "long long") + " parc_index;\n" +
      "  parc_index stride = (parc_index)gridDim.x * blockDim.x;\n"
      "  for (parc_index i = (parc_index)blockIdx.x * blockDim.x + threadIdx.x; i < " +
      literal(kernel.elements) + "; i += stride) {\n" + coordinates(out) + *loopBody + "  }\n}\n";
  return kernel;
}

FailureOr<CudaKernel> MovementEmitter::tiledTranspose(TransposeOp transpose,
                                                      const std::string &parameters,
                                                      bool narrow) {
  ArrayRef<int64_t> in = shapeOf(transpose.getInput()), out = shapeOf(transpose.getResult());
  ArrayRef<int64_t> permutation = transpose.getPermutation();
  int64_t last = static_cast<int64_t>(out.size()) - 1;
  // The output's last dim is input dim `across`; the input's last dim is output dim `down`.
  int64_t across = permutation[last];
  int64_t down = llvm::find(permutation, last) - permutation.begin();
  constexpr int64_t kTile = 32;
  int64_t tilesAcross = (in[across] + kTile - 1) / kTile;
  int64_t tilesDown = (in[last] + kTile - 1) / kTile;
  // The other output dims, walked by the tile's batch index b (row-major).
  SmallVector<int64_t> others;
  int64_t batch = 1;
  for (int64_t d = 0; d < last; ++d)
    if (d != down) {
      others.push_back(d);
      batch *= out[d];
    }
  int64_t tiles = batch * tilesAcross * tilesDown;
  // Output coordinates: the batch's from b, `down` from l, the last from a.
  SmallVector<std::string> outCoords(out.size()), inCoords(in.size());
  std::string code = "    const parc_index a0 = (tile % " + literal(tilesAcross) + ") * " +
                     literal(kTile) + ";\n    const parc_index l0 = ((tile / " +
                     literal(tilesAcross) + ") % " + literal(tilesDown) + ") * " +
                     literal(kTile) + ";\n    const parc_index b = tile / " +
                     literal(tilesAcross * tilesDown) + ";\n";
  int64_t stride = 1;
  for (int64_t k = static_cast<int64_t>(others.size()) - 1; k >= 0; --k) {
    int64_t d = others[k];
    code += "    const parc_index c" + std::to_string(d) + " = (b / " + literal(stride) + ") % " +
            literal(out[d]) + ";\n";
    stride *= out[d];
  }
  for (int64_t d = 0; d < last; ++d)
    if (d != down)
      outCoords[d] = inCoords[permutation[d]] = coordinate(d);
  outCoords[down] = inCoords[last] = "l";
  outCoords[last] = inCoords[across] = "a";
  std::string element = *bitsType(transpose.getType(), op);
  // 256 threads: 8 rows of 32. Reads walk the input's last dim (l) across a warp, writes
  // the output's (a); the tile's padding column keeps the column reads conflict-free.
  code += "    for (int r = threadIdx.x / 32; r < 32; r += 8) {\n"
          "      const parc_index a = a0 + r, l = l0 + (threadIdx.x % 32);\n"
          "      if (a < " + literal(in[across]) + " && l < " + literal(in[last]) + ")\n"
          "        parc_tile[r][threadIdx.x % 32] = in0[" + flatOffset(inCoords, in) + "];\n"
          "    }\n    __syncthreads();\n"
          "    for (int r = threadIdx.x / 32; r < 32; r += 8) {\n"
          "      const parc_index l = l0 + r, a = a0 + (threadIdx.x % 32);\n"
          "      if (a < " + literal(in[across]) + " && l < " + literal(in[last]) + ")\n"
          "        out0[" + flatOffset(outCoords, out) + "] = parc_tile[threadIdx.x % 32][r];\n"
          "    }\n    __syncthreads();\n";
  kernel.blockSize = 256;
  // One block a tile (the launch gives elements / 256 blocks, up to a full wave; the loop
  // strides over the rest).
  kernel.elements = tiles * kernel.blockSize;
  kernel.tiles = tiles;
  kernel.source = std::string(kPrelude) +
                  "\nextern \"C\" __global__ void __launch_bounds__(256) " + kernel.name +
                  "(" + parameters + ") {\n  typedef " + (narrow ? "int" : "long long") +
                  " parc_index;\n  __shared__ " + element + " parc_tile[32][33];\n" +
                  "  for (parc_index tile = blockIdx.x; tile < " + literal(tiles) +
                  "; tile += gridDim.x) {\n" + code + "  }\n}\n";
  return kernel;
}

} // namespace

bool mlir::parc::hasMovementKernel(Operation *op) {
  return isa<TransposeOp, SliceOp, ConcatOp, BroadcastToOp, GatherOp, GatherElementsOp,
             ShardSliceOp, ShardGatherOp, ReduceSumOp, ReduceMeanOp, ReduceMaxOp, CumSumOp, TopKOp>(op);
}

FailureOr<CudaKernel> mlir::parc::emitMovementKernel(Operation *op, StringRef name,
                                                     int64_t rank, int64_t ranks) {
  if (!hasMovementKernel(op))
    return op->emitOpError("has no CUDA kernel");
  for (Value v : llvm::concat<Value>(op->getOperands(), op->getResults()))
    if (failed(kindOf(v.getType(), op)))
      return failure();
  return MovementEmitter(op, name, rank, ranks).emit();
}
