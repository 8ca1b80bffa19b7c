//===- ArtifactWriter.cpp - writing .parc artifacts -----------------------===//
//
// Turns each planned function into a Program: values (arena offsets, weights, literals,
// inputs), instructions (one per compute op; reshapes are views and emit none) and outputs.
// Weights and large literals go to the data region as 64-byte-aligned shards whose bytes
// come straight from the module's resources, so writing streams them without a copy.
//
//===----------------------------------------------------------------------===//

#include "parc/Target/Artifact/ArtifactWriter.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"
#include "parc/Import/OnnxImporter.h"
#include "parc/Runtime/ArtifactFormat.h"
#include "parc/Runtime/ProcessMemory.h"
#include "parc/Target/Target.h"

#include "InstructionParams.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "parc/artifact/artifact.pb.h"

using namespace mlir;
using namespace mlir::parc;
namespace pa = ::parc::artifact;

namespace {

/// Literals up to this size live in the manifest; larger ones become data shards.
constexpr int64_t kInlineConstantBytes = 4096;

/// One rank's block of a weight split along a dim: the dim is viewed as
/// [groups, ranks, block] and the rank takes [:, rank, :] (see ShardingAttr).
struct ShardSelection {
  int64_t outer = 1;      // product of the dims before the split dim
  int64_t dim = 1;        // size of the split dim
  int64_t innerBytes = 1; // bytes of one index of the split dim
  int64_t groups = 1;
  int64_t rank = 0;
  int64_t ranks = 1;
};

/// The bytes of one shard: a view of resource memory, or bytes the writer unpacked, and for
/// a rank's shard the selection to take from them (taken while writing, so no copy is held).
struct ShardBytes {
  ArrayRef<char> view;
  std::vector<char> owned;
  std::optional<ShardSelection> selection;

  ArrayRef<char> bytes() const {
    return owned.empty() ? view : ArrayRef<char>(owned);
  }
  uint64_t size() const {
    return selection ? bytes().size() / selection->ranks : bytes().size();
  }
  /// Writes the shard's bytes to `os` and returns their CRC-32C, computed piece by
  /// piece as each is written.
  uint32_t write(llvm::raw_ostream &os) const {
    ArrayRef<char> all = bytes();
    if (!selection) {
      os.write(all.data(), all.size());
      return ::parc::rt::crc32c(all.data(), all.size());
    }
    const ShardSelection &s = *selection;
    int64_t block = s.dim / (s.groups * s.ranks);
    uint32_t crc = 0;
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t g = 0; g < s.groups; ++g) {
        int64_t first = o * s.dim + (g * s.ranks + s.rank) * block;
        const char *piece = all.data() + first * s.innerBytes;
        os.write(piece, block * s.innerBytes);
        crc = ::parc::rt::crc32c(piece, block * s.innerBytes, crc);
      }
    return crc;
  }
};

FailureOr<pa::DType> convertDType(Type type) {
  if (type.isF32())
    return pa::F32;
  if (type.isF16())
    return pa::F16;
  if (type.isBF16())
    return pa::BF16;
  if (type.isInteger(64))
    return pa::I64;
  if (type.isInteger(32))
    return pa::I32;
  if (type.isInteger(1))
    return pa::BOOL;
  return failure();
}

void setTensorType(pa::TensorType *proto, RankedTensorType type) {
  proto->set_dtype(*convertDType(type.getElementType()));
  for (int64_t dim : type.getShape())
    proto->add_shape(dim);
}

/// The little-endian bytes of `attr` as the runtime stores them (bools one byte each).
FailureOr<ShardBytes> elementBytes(ElementsAttr attr, Location loc) {
  ShardBytes result;
  auto type = cast<RankedTensorType>(attr.getType());
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return emitError(loc) << "weight data is missing (it was elided when the IR was "
                               "printed; compile from the ONNX model instead)";
    result.view = blob->getData();
    return result;
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return emitError(loc) << "unsupported constant storage " << attr;
  int64_t count = type.getNumElements();
  if (count == 0)
    return result;
  if (type.getElementType().isInteger(1)) {
    for (bool value : dense.getValues<bool>())
      result.owned.push_back(value ? 1 : 0);
    return result;
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat() && count > 1) {
    // A splat (ConstantOfShape, a broadcast scalar) is written out element by element:
    // refused, naming its node, when that would not fit in this machine's memory.
    uint64_t bytes = static_cast<uint64_t>(raw.size()) * static_cast<uint64_t>(count);
    uint64_t memory = ::parc::rt::physicalMemoryBytes();
    if (memory > 0 && bytes > memory)
      return emitError(loc) << "a constant of " << type << " needs " << bytes << " bytes ("
                            << ::parc::rt::formatBytes(bytes)
                            << ") in the artifact, more than this machine's memory ("
                            << ::parc::rt::formatBytes(memory) << ")";
    result.owned.reserve(bytes);
    for (int64_t i = 0; i < count; ++i)
      result.owned.insert(result.owned.end(), raw.begin(), raw.end());
    return result;
  }
  result.view = raw;
  return result;
}

/// Builds the manifest and collects the shards to write.
class ManifestBuilder {
public:
  ManifestBuilder(ModuleOp module, pa::Manifest &manifest, TargetArtifactWriter &target,
                  bool randomWeights)
      : module(module), manifest(manifest), target(target), randomWeights(randomWeights) {}

  /// Adds the program of world rank `rank`, whose index in its tensor-parallel group of
  /// `tpSize` ranks is `tpRank` and in its data-parallel group of `dpSize` ranks `dpRank`.
  /// `outputCount` is the number of graph outputs; a stage function's `parc.outputs` says
  /// which of them it returns.
  LogicalResult addProgram(func::FuncOp function, int rank, int tpRank, int tpSize,
                           int dpRank, int dpSize, int outputCount);
  std::vector<ShardBytes> &getShards() { return shards; }

private:
  /// The index of the shard holding weight `name` as rank `tpRank` of `tpSize` sees it
  /// (added on first use).
  FailureOr<int> weightShard(StringRef name, Location loc, int tpRank, int tpSize);
  /// The target's part: how each instruction runs there.
  TargetArtifactWriter &target;
  /// Weights are stored without bytes (parc-run makes them up).
  bool randomWeights;
  /// The dp coordinate of the program being added (ZeRO-1's state is split over dp).
  int currentDpRank = 0, currentDpSize = 1;
  int addShard(std::string name, RankedTensorType type, ShardBytes bytes, bool random = false);
  LogicalResult addInstruction(Operation *op, pa::Program &program);
  /// The program's last instruction.
  static pa::Instruction &lastInstruction(pa::Program &program) {
    return *program.mutable_instructions(program.instructions_size() - 1);
  }

  ModuleOp module;
  pa::Manifest &manifest;
  std::vector<ShardBytes> shards;
  llvm::StringMap<int> weightShards;
  uint64_t dataSize = 0;
  llvm::DenseMap<Value, int> valueIds;
  llvm::DenseMap<Operation *, int> constantShards;
};

int ManifestBuilder::addShard(std::string name, RankedTensorType type,
                              ShardBytes bytes, bool random) {
  pa::WeightShard *shard = manifest.add_weights();
  shard->set_name(std::move(name));
  setTensorType(shard->mutable_type(), type);
  shard->set_size(bytes.size());
  if (random) {
    shard->set_random(true);
  } else {
    dataSize = ::parc::rt::alignArtifactOffset(dataSize);
    shard->set_offset(dataSize);
    dataSize += bytes.size();
    shard->set_crc32c(0); // Filled in as the bytes are written.
  }
  manifest.set_data_size(dataSize);
  shards.push_back(std::move(bytes));
  return manifest.weights_size() - 1;
}

FailureOr<int> ManifestBuilder::weightShard(StringRef name, Location loc, int tpRank,
                                            int tpSize) {
  auto weight = module.lookupSymbol<WeightOp>(name);
  if (!weight)
    return emitError(loc) << "no parc.weight named @" << name;
  // A tensor-parallel split (by the weight's layout), or ZeRO-1's dim-0 split over dp.
  ShardingAttr sharding = weight.getShardingAttr();
  bool dpSplit = weight->hasAttr(kDataParallelSplitAttr) && currentDpSize > 1;
  bool split = dpSplit || (sharding && sharding.isSplit() && tpSize > 1);
  int64_t dim = dpSplit ? 0 : split ? sharding.getDim() : 0;
  int64_t groups = dpSplit ? 1 : split ? sharding.getGroups() : 1;
  int rank = dpSplit ? currentDpRank : tpRank, ranks = dpSplit ? currentDpSize : tpSize;
  const char *group = dpSplit ? "dp" : "tp";
  std::string key = name.str();
  if (split)
    key += std::string("#") + group + std::to_string(rank) + "/" + std::to_string(ranks);
  auto it = weightShards.find(key);
  if (it != weightShards.end())
    return it->second;
  FailureOr<ShardBytes> bytes = elementBytes(weight.getValue(), weight.getLoc());
  if (failed(bytes))
    return failure();
  RankedTensorType type = weight.getType();
  if (split) {
    ArrayRef<int64_t> shape = type.getShape();
    ShardSelection selection;
    for (int64_t d = 0; d < dim; ++d)
      selection.outer *= shape[d];
    selection.dim = shape[dim];
    selection.innerBytes = static_cast<int64_t>(bytes->bytes().size()) /
                           std::max<int64_t>(1, selection.outer * shape[dim]);
    selection.groups = groups;
    selection.rank = rank;
    selection.ranks = ranks;
    if (shape[dim] % (groups * ranks) != 0)
      return weight.emitError("dim ")
             << dim << " of size " << shape[dim] << " does not split into " << groups
             << " groups over " << ranks << " ranks";
    bytes->selection = selection;
    SmallVector<int64_t> local(shape);
    local[dim] /= ranks;
    type = RankedTensorType::get(local, type.getElementType());
  }
  // Optimizer state starts at zero and must (Adam's second moment is never negative): it
  // keeps its bytes under --random-weights.
  bool madeUp = randomWeights && !weight->hasAttr(kStateOfAttr);
  int index = addShard(key, type, std::move(*bytes), madeUp);
  if (split) {
    pa::ShardOf &of = *manifest.mutable_weights(index)->mutable_shard_of();
    of.set_weight(name.str());
    setTensorType(of.mutable_whole(), weight.getType());
    of.set_dim(dim);
    of.set_groups(groups);
    of.set_index(rank);
    of.set_count(ranks);
    of.set_group(group);
    // ZeRO-1's state is checkpointed in its weight's shape (docs/training.md).
    if (dpSplit)
      if (auto state = weight->getAttrOfType<StringAttr>(kStateOfAttr))
        if (auto owner = module.lookupSymbol<WeightOp>(state.getValue()))
          setTensorType(of.mutable_checkpoint(), owner.getType());
  }
  weightShards[key] = index;
  return index;
}

/// The node name of an op's location, for runtime messages.
std::string locationName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return locationName(fused.getLocations().front());
  return "";
}

LogicalResult ManifestBuilder::addInstruction(Operation *op,
                                              pa::Program &program) {
  pa::Instruction *inst = program.add_instructions();
  inst->set_op(op->getName().stripDialect().str());
  inst->set_location(locationName(op->getLoc()));
  for (Value operand : op->getOperands())
    inst->add_operands(valueIds.lookup(operand));
  for (Value result : op->getResults())
    inst->add_results(valueIds.lookup(result));
  setScheduleStep(op, *inst);
  // Communication, transfers and fused regions carry what the rank needs (addProgram
  // fills their params); compute ops carry their own attributes, typed.
  if (isa<AllReduceOp, AllReduceStartOp, AllReduceWaitOp, AllGatherOp, ReduceScatterOp>(op)) {
    pa::CollectiveParams &params = *inst->mutable_collective();
    params.set_group(op->getAttrOfType<StringAttr>("group").str());
    if (auto axis = op->getAttrOfType<IntegerAttr>("axis"))
      params.set_axis(axis.getInt());
    if (auto tag = op->getAttrOfType<IntegerAttr>("tag"))
      params.set_tag(tag.getInt());
    return success();
  }
  if (auto slice = dyn_cast<ShardSliceOp>(op)) {
    inst->mutable_shard()->set_axis(slice.getAxis());
    inst->mutable_shard()->set_groups(slice.getGroups());
    return success();
  }
  if (auto gather = dyn_cast<ShardGatherOp>(op)) {
    inst->mutable_shard()->set_axis(gather.getAxis());
    inst->mutable_shard()->set_groups(1);
    return success();
  }
  if (isa<SendOp, SendWaitOp, RecvOp, RecvWaitOp>(op)) {
    inst->mutable_transfer();
    return success();
  }
  if (auto fused = dyn_cast<FusedOp>(op)) {
    inst->mutable_kernel()->set_kind(fused.getKind().str());
    if (auto epilogue = op->getAttrOfType<StringAttr>("epilogue"))
      inst->mutable_kernel()->set_epilogue(epilogue.str());
    return success();
  }
  return setComputeParams(op, *inst);
}

LogicalResult ManifestBuilder::addProgram(func::FuncOp function, int rank,
                                          int tpRank, int tpSize, int dpRank, int dpSize,
                                          int outputCount) {
  valueIds.clear();
  currentDpRank = dpRank;
  currentDpSize = dpSize;
  int64_t ppSize = manifest.mesh().pp() > 0 ? manifest.mesh().pp() : 1;
  pa::Program &program = *manifest.add_programs();
  program.set_rank(rank);
  auto arena = function->getAttrOfType<IntegerAttr>(kArenaBytesAttr);
  if (!arena)
    return function.emitError("function has no buffer plan (run parc-plan-buffers)");
  program.set_arena_bytes(arena.getInt());

  auto newValue = [&](Value value) -> pa::Value & {
    valueIds[value] = program.values_size();
    pa::Value &proto = *program.add_values();
    setTensorType(proto.mutable_type(), cast<RankedTensorType>(value.getType()));
    return proto;
  };
  for (BlockArgument argument : function.getArguments())
    newValue(argument).set_input(argument.getArgNumber());

  // A transfer's peer is the rank of the other stage `stage` with this rank's dp and tp
  // coordinates; `tag` pairs a send with its receive.
  auto setTransfer = [&](int64_t stage, int64_t tag) {
    pa::TransferParams &transfer = *lastInstruction(program).mutable_transfer();
    transfer.set_peer(static_cast<int>((dpRank * ppSize + stage) * tpSize + tpRank));
    transfer.set_tag(tag);
  };
  for (Operation &op : function.front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      // A stage returns some of the graph outputs: -1 marks those it does not produce.
      auto which = function->getAttrOfType<DenseI64ArrayAttr>(kOutputsAttr);
      for (int i = 0; i < outputCount; ++i)
        program.add_outputs(-1);
      for (auto [position, result] : llvm::enumerate(ret.getOperands()))
        program.set_outputs(which ? which[position] : position, valueIds.lookup(result));
      continue;
    }
    if (auto assign = dyn_cast<AssignWeightOp>(op)) {
      // Operand 0 is the weight's own storage, which the instruction overwrites.
      FailureOr<int> shard = weightShard(assign.getName(), op.getLoc(), tpRank, tpSize);
      if (failed(shard))
        return failure();
      pa::Instruction *inst = program.add_instructions();
      inst->set_op("assign_weight");
      inst->set_location(locationName(op.getLoc()));
      pa::Value &target = *program.add_values();
      setTensorType(target.mutable_type(), cast<RankedTensorType>(assign.getValue().getType()));
      target.set_weight(*shard);
      inst->add_operands(program.values_size() - 1);
      inst->add_operands(valueIds.lookup(assign.getValue()));
      continue;
    }
    if (isa<SendOp, SendWaitOp>(op)) {
      if (failed(addInstruction(&op, program)))
        return failure();
      setTransfer(op.getAttrOfType<IntegerAttr>("stage").getInt(),
                  op.getAttrOfType<IntegerAttr>("tag").getInt());
      continue;
    }
    if (isa<RecvWaitOp, AllReduceWaitOp>(op)) {
      // The received (or summed) buffer, now filled: a view of the start's storage.
      pa::Value storage = program.values(valueIds.lookup(op.getOperand(0)));
      pa::Value &view = newValue(op.getResult(0));
      storage.clear_type();
      view.MergeFrom(storage);
      if (failed(addInstruction(&op, program)))
        return failure();
      if (auto wait = dyn_cast<RecvWaitOp>(op))
        setTransfer(wait.getRecv().getStage(), wait.getRecv().getTag());
      continue;
    }
    if (auto fused = dyn_cast<FusedOp>(op)) {
      SmallVector<int64_t> offsets;
      if (auto single = op.getAttrOfType<IntegerAttr>(kOffsetAttr))
        offsets.push_back(single.getInt());
      else if (auto several = op.getAttrOfType<DenseI64ArrayAttr>(kOffsetsAttr))
        offsets.assign(several.asArrayRef().begin(), several.asArrayRef().end());
      if (offsets.size() != op.getNumResults())
        return op.emitOpError("has no buffer offsets (run parc-plan-buffers)");
      for (auto [result, offset] : llvm::zip(op.getResults(), offsets))
        newValue(result).set_arena_offset(offset);
      if (failed(addInstruction(&op, program)) ||
          failed(target.lowerInstruction(&op, 0, 1, lastInstruction(program))))
        return failure();
      continue;
    }
    if (op.getNumResults() != 1)
      return op.emitOpError("has ") << op.getNumResults()
                                    << " results; the artifact writer handles one";
    Value result = op.getResult(0);
    if (auto load = dyn_cast<LoadWeightOp>(op)) {
      FailureOr<int> shard =
          weightShard(load.getName(), op.getLoc(), tpRank, tpSize);
      if (failed(shard))
        return failure();
      newValue(result).set_weight(*shard);
      continue;
    }
    if (auto constant = dyn_cast<ConstantOp>(op)) {
      FailureOr<ShardBytes> bytes = elementBytes(constant.getValue(), op.getLoc());
      if (failed(bytes))
        return failure();
      if (static_cast<int64_t>(bytes->size()) <= kInlineConstantBytes) {
        ArrayRef<char> data = bytes->bytes();
        newValue(result).set_constant(std::string(data.begin(), data.end()));
      } else {
        // Every rank's program refers to the same shard of a large literal.
        auto [it, inserted] = constantShards.try_emplace(&op, 0);
        if (inserted)
          it->second = addShard("constant#" + std::to_string(manifest.weights_size()),
                                constant.getType(), std::move(*bytes));
        newValue(result).set_weight(it->second);
      }
      continue;
    }
    if (auto reshape = dyn_cast<ReshapeOp>(op)) {
      // A view: the same storage as its input, seen with another shape.
      pa::Value storage = program.values(valueIds.lookup(reshape.getInput()));
      pa::Value &view = newValue(result);
      storage.clear_type();
      view.MergeFrom(storage);
      continue;
    }
    auto offset = op.getAttrOfType<IntegerAttr>(kOffsetAttr);
    if (!offset)
      return op.emitOpError("has no buffer offset (run parc-plan-buffers)");
    newValue(result).set_arena_offset(offset.getInt());
    if (failed(addInstruction(&op, program)))
      return failure();
    int64_t groupRank = 0, groupSize = 1;
    if (isa<ShardSliceOp, ShardGatherOp>(op)) {
      // The slice a rank keeps depends on its place in the group.
      bool dp = op.getAttrOfType<StringAttr>("group").getValue() == "dp";
      groupRank = dp ? dpRank : tpRank;
      groupSize = dp ? dpSize : tpSize;
      lastInstruction(program).mutable_shard()->set_rank(groupRank);
      lastInstruction(program).mutable_shard()->set_ranks(groupSize);
    }
    if (failed(target.lowerInstruction(&op, groupRank, groupSize, lastInstruction(program))))
      return failure();
    if (auto recv = dyn_cast<RecvOp>(op))
      setTransfer(recv.getStage(), recv.getTag());
  }
  return success();
}

} // namespace

LogicalResult mlir::parc::writeArtifact(ModuleOp module, StringRef path,
                                        StringRef target, ArtifactStats *stats,
                                        StringRef cudaArch, bool randomWeights) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return module.emitError("the module has no @main function");

  int64_t dp = getMeshAxisSize(main, "dp").value_or(1);
  int64_t pp = getMeshAxisSize(main, "pp").value_or(1);
  int64_t tp = getMeshAxisSize(main, "tp").value_or(1);
  pa::Manifest manifest;
  manifest.set_format_version(::parc::rt::kArtifactFormatVersion);
  manifest.set_producer("parc-compile");
  manifest.set_target(target.str());
  manifest.mutable_mesh()->set_dp(dp);
  manifest.mutable_mesh()->set_pp(pp);
  manifest.mutable_mesh()->set_tp(tp);
  manifest.set_world_size(dp * pp * tp);
  manifest.set_training(static_cast<bool>(main->getAttr(kTrainingAttr)));
  for (auto [i, type] : llvm::enumerate(main.getArgumentTypes())) {
    pa::GraphValue *input = manifest.add_inputs();
    auto name = main.getArgAttrOfType<StringAttr>(i, kOnnxNameAttr);
    input->set_name(name ? name.str() : "input" + std::to_string(i));
    setTensorType(input->mutable_type(), cast<RankedTensorType>(type));
  }
  for (auto [i, type] : llvm::enumerate(main.getResultTypes())) {
    pa::GraphValue *output = manifest.add_outputs();
    auto name = main.getResultAttrOfType<StringAttr>(i, kOnnxNameAttr);
    output->set_name(name ? name.str() : "output" + std::to_string(i));
    setTensorType(output->mutable_type(), cast<RankedTensorType>(type));
  }

  const Target *compileTarget = lookupTarget(target);
  if (!compileTarget)
    return module.emitError("unknown target '")
           << target << "' (expected " << describeTargetNames() << ")";
  std::unique_ptr<TargetArtifactWriter> targetWriter =
      compileTarget->createArtifactWriter(manifest, cudaArch);
  ManifestBuilder builder(module, manifest, *targetWriter, randomWeights);
  // Ranks are laid out as Megatron-LM does: rank = (d * pp + stage) * tp + t, so a
  // tensor-parallel group is consecutive ranks and a stage's peers are tp ranks apart.
  bool pipelined = static_cast<bool>(module->getAttr(kPipelinePlanAttr));
  for (int rank = 0; rank < dp * pp * tp; ++rank) {
    int64_t stage = rank / tp % pp;
    func::FuncOp program = main;
    if (pipelined) {
      program = module.lookupSymbol<func::FuncOp>("stage" + std::to_string(stage));
      if (!program)
        return module.emitError("the pipelined module has no @stage") << stage;
    } else if (main.isExternal()) {
      return main.emitError("@main has no body");
    }
    int tpIndex = static_cast<int>(rank % tp), dpIndex = static_cast<int>(rank / (tp * pp));
    if (failed(builder.addProgram(program, rank, tpIndex, static_cast<int>(tp), dpIndex,
                                  static_cast<int>(dp), main.getNumResults())))
      return failure();
    // Where the rank sits and the communicators it joins, in the order every member
    // creates them: its tp group, its dp group, the world (pipeline peers are world ranks).
    pa::Program &written = *manifest.mutable_programs(rank);
    written.set_stage(static_cast<int>(stage));
    written.set_tp_index(tpIndex);
    written.set_dp_index(dpIndex);
    if (dp * pp * tp > 1) {
      pa::Group &tpGroup = *written.add_groups();
      tpGroup.set_name("tp");
      for (int64_t t = 0; t < tp; ++t)
        tpGroup.add_members(static_cast<int>(rank - rank % tp + t));
      if (dp > 1) {
        pa::Group &dpGroup = *written.add_groups();
        dpGroup.set_name("dp");
        for (int64_t d = 0; d < dp; ++d)
          dpGroup.add_members(static_cast<int>(d * pp * tp + rank % (pp * tp)));
      }
      pa::Group &world = *written.add_groups();
      world.set_name("world");
      for (int64_t r = 0; r < dp * pp * tp; ++r)
        world.add_members(static_cast<int>(r));
    }
  }
  // Bytes one rank maps: its own shards and the replicated weights.
  uint64_t rankWeightBytes = 0;
  {
    llvm::DenseSet<int> used;
    for (const pa::Value &value : manifest.programs(0).values())
      if (value.storage_case() == pa::Value::kWeight && used.insert(value.weight()).second)
        rankWeightBytes += manifest.weights(value.weight()).size();
  }
  manifest.set_weight_bytes(rankWeightBytes);

  // The manifest goes first but holds the shards' checksums, which are computed as the
  // shards are written: it is written with zeros in their place (the same size: each is
  // a present fixed32) and again, with the header, once the data region is done.
  std::string manifestBytes;
  ::parc::rt::ArtifactHeader header{};
  auto serializeManifest = [&]() -> LogicalResult {
    std::string bytes;
    if (!manifest.SerializeToString(&bytes))
      return module.emitError("cannot serialize the artifact manifest");
    if (!manifestBytes.empty() && bytes.size() != manifestBytes.size())
      return module.emitError("the artifact manifest changed size with its checksums");
    manifestBytes = std::move(bytes);
    std::memcpy(header.magic, ::parc::rt::kArtifactMagic, sizeof(header.magic));
    header.formatVersion = ::parc::rt::kArtifactFormatVersion;
    header.manifestSize = manifestBytes.size();
    header.manifestCrc32 = ::parc::rt::crc32(manifestBytes.data(), manifestBytes.size());
    header.dataOffset = ::parc::rt::alignArtifactOffset(sizeof(header) + manifestBytes.size());
    return success();
  };
  if (failed(serializeManifest()))
    return failure();

  // Write under a temporary name in the same folder, then rename into place.
  llvm::SmallString<256> temporary;
  int fd;
  llvm::SmallString<256> model(path);
  llvm::sys::path::remove_filename(model);
  std::string pattern =
      (model.empty() ? std::string(".") : std::string(model)) + "/.%%%%%%.parc.tmp";
  if (std::error_code error = llvm::sys::fs::createUniqueFile(pattern, fd, temporary))
    return module.emitError("cannot write ") << path << ": " << error.message();
  bool ok;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(reinterpret_cast<const char *>(&header), sizeof(header));
    os << manifestBytes;
    uint64_t written = sizeof(header) + manifestBytes.size();
    auto pad = [&](uint64_t to) {
      for (; written < to; ++written)
        os.write('\0');
    };
    pad(header.dataOffset);
    for (auto [index, shard] : llvm::enumerate(builder.getShards())) {
      if (manifest.weights(index).random())
        continue;
      pad(header.dataOffset + manifest.weights(index).offset());
      manifest.mutable_weights(index)->set_crc32c(shard.write(os));
      written += shard.size();
    }
    pad(header.dataOffset + manifest.data_size());
    if (failed(serializeManifest())) {
      os.close();
      llvm::sys::fs::remove(temporary);
      return failure();
    }
    os.seek(0);
    os.write(reinterpret_cast<const char *>(&header), sizeof(header));
    os << manifestBytes;
    os.close();
    ok = !os.has_error();
    if (stats) {
      stats->fileBytes = written;
      stats->weightBytes = manifest.weight_bytes();
      stats->ranks = manifest.world_size();
      stats->arenaBytes = manifest.programs(0).arena_bytes();
      stats->instructions = manifest.programs(0).instructions_size();
      for (const pa::Instruction &inst : manifest.programs(0).instructions())
        if (inst.op() == "fused" && inst.kernel().kind() == "gemm")
          stats->gemms += 1;
      for (const pa::CudaKernel &kernel : manifest.cuda_kernels()) {
        (kernel.data_movement() ? stats->movementKernels
         : kernel.row()         ? stats->rowKernels
                                : stats->elementwiseKernels) += 1;
        stats->ptxBytes += kernel.ptx().size();
        stats->cubinBytes += kernel.cubin().size();
        stats->kernelsWithoutBinaries += kernel.ptx().empty() || kernel.cubin().empty();
      }
    }
  }
  if (!ok) {
    llvm::sys::fs::remove(temporary);
    return module.emitError("cannot write ") << path << " (disk full?)";
  }
  if (std::error_code error = llvm::sys::fs::rename(temporary, path)) {
    llvm::sys::fs::remove(temporary);
    return module.emitError("cannot write ") << path << ": " << error.message();
  }
  return success();
}
