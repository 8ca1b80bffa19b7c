//===- CostModelTest.cpp - the cost formulas and machine profiles ---------===//
//
// The formulas against the figures they come from (../shared/FORMULAS.md: Megatron's
// papers, ring collectives), and the profile reader's checks, one per kind of bad field.
//
//===----------------------------------------------------------------------===//

#include "parc/Analysis/CostFormulas.h"
#include "parc/Analysis/CostModel.h"
#include "parc/Analysis/MachineProfile.h"
#include "parc/Analysis/MemoryModel.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

using namespace mlir::parc;

namespace {

TEST(CostFormulas, BubbleMatchesThePublishedTestValues) {
  // p = 4, m = 8: 3/11 of the step; interleaved with v = 2: 3/19.
  EXPECT_DOUBLE_EQ(pipelineBubbleFraction(4, 8, 1), 3.0 / 11);
  EXPECT_DOUBLE_EQ(pipelineBubbleFraction(4, 8, 2), 3.0 / 19);
  EXPECT_DOUBLE_EQ(pipelineBubbleFraction(1, 8, 1), 0);
}

TEST(CostFormulas, RingCollectivesMoveTheirShareOfTheBuffer) {
  LinkProfile link{/*bandwidth=*/100e9, /*efficiency=*/0.5, /*latency=*/1e-6};
  // 8 ranks: 2 * 7/8 of 1 GB at 50 GB/s, plus 14 latencies.
  EXPECT_NEAR(ringAllReduceSeconds(1e9, 8, link), 1.75 * 1e9 / 50e9 + 14e-6, 1e-12);
  EXPECT_NEAR(ringAllGatherSeconds(1e9, 8, link), 0.875 * 1e9 / 50e9 + 7e-6, 1e-12);
  EXPECT_EQ(ringAllReduceSeconds(1e9, 1, link), 0);
  EXPECT_NEAR(sendSeconds(1e6, link), 1e-6 + 1e6 / 50e9, 1e-15);
}

TEST(CostFormulas, ZeroShardsTheAdamState) {
  double psi = 1e9;
  EXPECT_DOUBLE_EQ(mixedPrecisionAdamStateBytes(psi, 0, 8), 16e9);
  EXPECT_DOUBLE_EQ(mixedPrecisionAdamStateBytes(psi, 1, 8), 4e9 + 12e9 / 8);
  EXPECT_DOUBLE_EQ(mixedPrecisionAdamStateBytes(psi, 2, 8), 2e9 + 14e9 / 8);
  EXPECT_DOUBLE_EQ(mixedPrecisionAdamStateBytes(psi, 3, 8), 2e9);
}

TEST(CostFormulas, SelectiveRecomputeWithSequenceParallelismCutsActivationsFiveTimes) {
  // Megatron 2022 on a GPT-3-sized layer (a = 96, h = 12288, s = 2048, t = 8): about 5x
  // less than tensor parallelism alone; full recompute keeps only the layer input.
  int64_t s = 2048, b = 1, h = 12288, a = 96, t = 8;
  double tensorParallel = transformerLayerActivationBytes(s, b, h, a, t, false,
                                                          ActivationRecompute::None);
  double both = transformerLayerActivationBytes(s, b, h, a, t, true,
                                                ActivationRecompute::Selective);
  EXPECT_GT(tensorParallel / both, 5.0);
  EXPECT_LT(tensorParallel / both, 6.0);
  EXPECT_DOUBLE_EQ(transformerLayerActivationBytes(s, b, h, a, t, false,
                                                   ActivationRecompute::Full),
                   2.0 * s * b * h);
  // Without parallelism: s b h (34 + 5 a s / h).
  EXPECT_DOUBLE_EQ(transformerLayerActivationBytes(s, b, h, a, 1, false,
                                                   ActivationRecompute::None),
                   double(s) * b * h * (34 + 5.0 * a * s / h));
}

TEST(CostFormulas, GptParametersMatchMegatronsTableOne) {
  // PTD-P 2021, Table 1: (published billions, layers, hidden); vocabulary 51200, s 2048.
  struct Row {
    double billions;
    int64_t layers, hidden;
  };
  for (Row row : {Row{1.7, 24, 2304}, Row{3.6, 30, 3072}, Row{7.5, 36, 4096},
                  Row{18.4, 40, 6144}, Row{39.1, 48, 8192}, Row{76.1, 60, 10240},
                  Row{145.6, 80, 12288}, Row{310.1, 96, 16384}, Row{529.6, 105, 20480},
                  Row{1008.0, 128, 25600}}) {
    double parameters = gptParameters(row.layers, row.hidden, 51200, 2048);
    EXPECT_NEAR(parameters / 1e9 / row.billions, 1.0, 0.03) << row.billions << "B";
  }
}

TEST(CostFormulas, FullRecomputeCountsOneMoreForward) {
  // A forward is a third of forward + backward, so the 1T row's iteration with full
  // recompute is about 4/3 of the plain one (the vocabulary term is not recomputed).
  double recomputed = gptIterationFlops(3072, 2048, 128, 25600, 51200, true);
  double plain = gptIterationFlops(3072, 2048, 128, 25600, 51200, false);
  EXPECT_NEAR(recomputed / plain, 4.0 / 3, 0.01);
  EXPECT_LT(recomputed / plain, 4.0 / 3);
}

TEST(CostFormulas, KernelTimeIsTheRoofline) {
  llvm::Expected<MachineProfile> a100 = loadMachineProfile("dgx-a100");
  ASSERT_TRUE(bool(a100)) << llvm::toString(a100.takeError());
  const DeviceProfile &device = a100->device;
  // A large bf16 GEMM: compute-bound at 80% of 312 TFLOP/s.
  double flops = 2.0 * 8192 * 8192 * 8192, bytes = 3.0 * 8192 * 8192 * 2;
  EXPECT_NEAR(kernelSeconds(flops, bytes, "bf16", device),
              5e-6 + flops / (312e12 * 0.8), 1e-9);
  // An elementwise op: memory-bound at 85% of 2.039 TB/s.
  EXPECT_NEAR(kernelSeconds(1e8, 8e8, "bf16", device), 5e-6 + 8e8 / (2.039e12 * 0.85),
              1e-9);
}

// Collective libraries concatenate rank after rank: gathering or scattering along a dim
// with larger dims before it reads and writes the whole tensor once more.
TEST(CostModel, CollectivesAlongInnerDimsCopyTheWholeTensor) {
  mlir::MLIRContext context;
  auto f32 = mlir::Float32Type::get(&context);
  auto table = mlir::RankedTensorType::get({50257, 768}, f32);
  EXPECT_EQ(collectiveRelayoutBytes(table, 0), 0);
  EXPECT_EQ(collectiveRelayoutBytes(table, 1), 2.0 * 50257 * 768 * 4);
  EXPECT_EQ(collectiveRelayoutBytes(table, -1), 2.0 * 50257 * 768 * 4);
  // Leading dims of one: the blocks are already contiguous.
  auto batch = mlir::RankedTensorType::get({1, 128, 768}, f32);
  EXPECT_EQ(collectiveRelayoutBytes(batch, 1), 0);
  EXPECT_EQ(collectiveRelayoutBytes(batch, 2), 2.0 * 128 * 768 * 4);
}

// Mixed-precision Adam is ZeRO's 16 bytes per parameter (2 + 2 + 12, Rajbhandari et al.
// 2020, section 3.1), of which ZeRO-1 shards the 12 of the optimizer state.
TEST(MemoryModel, ModelStateBytesAreZerosSixteen) {
  ModelStateBytes adam = modelStateBytesPerParameter(ComputePrecision::F16, true, "adamw", false);
  EXPECT_EQ(adam.weights, 2);
  EXPECT_EQ(adam.gradients, 2);
  EXPECT_EQ(adam.optimizer, 12);
  double psi = 1e9, d = 64;
  EXPECT_DOUBLE_EQ((adam.weights + adam.gradients) * psi + adam.optimizer * psi / d,
                   mixedPrecisionAdamStateBytes(psi, 1, 64));
  ModelStateBytes sgd = modelStateBytesPerParameter(ComputePrecision::F32, true, "sgd", true);
  EXPECT_EQ(sgd.weights + sgd.gradients + sgd.optimizer, 12);
  ModelStateBytes inference =
      modelStateBytesPerParameter(ComputePrecision::F32, false, "adamw", false);
  EXPECT_EQ(inference.gradients + inference.optimizer, 0);
}

// GPipe keeps every microbatch, 1F1B at most p - rank (Narayanan et al. 2021, section
// 2.2.1); interleaving keeps more on the first rank (Megatron-LM's warm-up).
TEST(MemoryModel, MicrobatchesInFlightFollowTheSchedule) {
  EXPECT_EQ(microbatchesInFlight(PipelineScheduleKind::GPipe, 0, 4, 16, 1), 16);
  EXPECT_EQ(microbatchesInFlight(PipelineScheduleKind::OneFOneB, 0, 4, 16, 1), 4);
  EXPECT_EQ(microbatchesInFlight(PipelineScheduleKind::OneFOneB, 3, 4, 16, 1), 1);
  EXPECT_EQ(microbatchesInFlight(PipelineScheduleKind::OneFOneB, 0, 4, 2, 1), 2);
  // p = 4, v = 2, rank 0: 2 * 3 + 1 * 4 + 1 = 11 chunk passes = 5.5 microbatches.
  EXPECT_EQ(microbatchesInFlight(PipelineScheduleKind::Interleaved, 0, 4, 16, 2), 5.5);
  EXPECT_EQ(microbatchesInFlight(PipelineScheduleKind::OneFOneB, 0, 1, 16, 1), 1);
}

TEST(MachineProfile, BuiltinsLoad) {
  for (llvm::StringRef name : builtinMachineProfileNames()) {
    llvm::Expected<MachineProfile> profile = loadMachineProfile(name);
    ASSERT_TRUE(bool(profile)) << name.str() << ": " << llvm::toString(profile.takeError());
    EXPECT_EQ(profile->name, name.str());
    EXPECT_EQ(profile->devicesPerNode, 8);
  }
  llvm::Expected<MachineProfile> h100 = loadMachineProfile("dgx-h100");
  ASSERT_TRUE(bool(h100));
  EXPECT_DOUBLE_EQ(h100->device.peakFlops.at("bf16"), 989e12);
  EXPECT_EQ(&h100->linkFor(8), &h100->intraNode);
  EXPECT_EQ(&h100->linkFor(16), &h100->interNode);
}

TEST(MachineProfile, GemmEfficiencyInterpolatesInLogFlops) {
  DeviceProfile device;
  device.gemmEfficiency = {{1e6, 0.2}, {1e10, 0.6}};
  EXPECT_DOUBLE_EQ(device.gemmEfficiencyAt(1e3), 0.2);
  EXPECT_DOUBLE_EQ(device.gemmEfficiencyAt(1e12), 0.6);
  EXPECT_NEAR(device.gemmEfficiencyAt(1e8), 0.4, 1e-12);
}

/// The error of parsing dgx-a100 with `from` replaced by `to`.
std::string errorWith(llvm::StringRef from, llvm::StringRef to) {
  std::string text = builtinMachineProfileJson("dgx-a100").str();
  size_t at = text.find(from.str());
  EXPECT_NE(at, std::string::npos) << from.str();
  text.replace(at, from.size(), to.str());
  llvm::Expected<MachineProfile> profile = parseMachineProfile(text, "bad.json");
  if (profile)
    return "";
  return llvm::toString(profile.takeError());
}

TEST(MachineProfile, BadFieldsAreNamed) {
  EXPECT_EQ(errorWith("\"memory_bytes\": 85899345920", "\"memory_bytes\": -1"),
            "bad.json: device.memory_bytes: expected a positive number");
  EXPECT_EQ(errorWith("\"bandwidth\": 25e9", "\"bandwidth\": \"fast\""),
            "bad.json: inter_node.bandwidth: expected a positive number");
  EXPECT_EQ(errorWith("\"efficiency\": 0.8, \"latency\": 5e-6}",
                      "\"efficiency\": 1.5, \"latency\": 5e-6}"),
            "bad.json: intra_node.efficiency: expected a number in (0, 1]");
  EXPECT_EQ(errorWith("\"devices_per_node\": 8", "\"devices_per_nodes\": 8"),
            "bad.json: devices_per_node: is missing");
  EXPECT_EQ(errorWith("\"collective_algorithm\": \"ring\"",
                      "\"collective_algorithm\": \"ring\", \"colour\": 1"),
            "bad.json: colour: is not a field of this object");
  EXPECT_EQ(errorWith("\"f32\": 19.5e12,", "\"fp8\": 1e15, \"f32\": 19.5e12,"),
            "bad.json: device.peak_flops.fp8: is not a field of this object");
  EXPECT_EQ(errorWith("[[1e12, 0.8]]", "[[1e12, 0.8], [1e9, 0.5]]"),
            "bad.json: device.gemm_efficiency[1]: points must be in increasing flops");
  EXPECT_EQ(errorWith("\"ring\"", "\"tree\""),
            "bad.json: collective_algorithm: 'tree' is not priced; expected \"ring\"");
  EXPECT_EQ(errorWith("\"devices_per_node\": 8", "\"devices_per_node\": 2.5"),
            "bad.json: devices_per_node: expected a whole number from 1 to 1048576");
  // Found by the machine-profile fuzz target: a count beyond int64_t was converted anyway.
  EXPECT_EQ(errorWith("\"devices_per_node\": 8", "\"devices_per_node\": 3e43"),
            "bad.json: devices_per_node: expected a whole number from 1 to 1048576");
  EXPECT_EQ(errorWith("\"devices_per_node\": 8", "\"devices_per_node\": 8, "
                      "\"node_memory_bandwidth\": -5"),
            "bad.json: node_memory_bandwidth: expected a number of at least 0");
  llvm::Expected<MachineProfile> garbage = parseMachineProfile("{not json", "x.json");
  ASSERT_FALSE(bool(garbage));
  EXPECT_NE(llvm::toString(garbage.takeError()).find("x.json: not valid JSON"),
            std::string::npos);
}

TEST(MachineProfile, ReadsWhatParcCalibrateWrites) {
  // A parc-calibrate output from this project's 2-core build machine;
  // test/Runtime/parc_calibrate.py checks that the tool still writes these keys.
  llvm::Expected<MachineProfile> profile =
      loadMachineProfile(PARC_UNITTEST_INPUTS "/cpu-local-sample.json");
  ASSERT_TRUE(bool(profile)) << llvm::toString(profile.takeError());
  EXPECT_EQ(profile->name, "cpu-local");
  EXPECT_GT(profile->device.peakFlops.at("f32"), 1e9);
  EXPECT_GE(profile->device.gemmEfficiency.size(), 5u);
  EXPECT_GT(profile->intraNode.bandwidth, 1e8);
  EXPECT_GT(profile->device.transposeEfficiency, 0);
  EXPECT_LT(profile->device.transposeEfficiency, 1); // strided: slower than streaming
  EXPECT_GT(profile->nodeMemoryBandwidth, 0);
}

TEST(MachineProfile, DevicesOfANodeShareItsMemoryBandwidth) {
  llvm::Expected<MachineProfile> profile = loadMachineProfile("dgx-a100");
  ASSERT_TRUE(bool(profile)) << llvm::toString(profile.takeError());
  // GPUs have their own memory: nothing shared.
  EXPECT_EQ(profile->deviceAmong(8).memoryBandwidth, profile->device.memoryBandwidth);
  profile->device.memoryBandwidth = 40e9;
  profile->nodeMemoryBandwidth = 60e9;
  EXPECT_DOUBLE_EQ(profile->deviceAmong(1).memoryBandwidth, 40e9);
  EXPECT_DOUBLE_EQ(profile->deviceAmong(2).memoryBandwidth, 30e9);
  EXPECT_DOUBLE_EQ(profile->deviceAmong(4).memoryBandwidth, 15e9);
  // Beyond a node, each node's devices share their own.
  EXPECT_DOUBLE_EQ(profile->deviceAmong(64).memoryBandwidth, 60e9 / 8);
}

TEST(MachineProfile, UnknownNameListsTheBuiltins) {
  llvm::Expected<MachineProfile> profile = loadMachineProfile("dgx-z9");
  ASSERT_FALSE(bool(profile));
  EXPECT_EQ(llvm::toString(profile.takeError()),
            "'dgx-z9' is neither a built-in machine profile (dgx-a100, dgx-h100, cpu-local) nor a file");
}

} // namespace
