//===- CudaApiTest.cpp - binding the NVIDIA driver's entry points --------===//
//
// loadDriver against two fake libcuda.so builds (FakeDriverLibrary.cpp): a driver of CUDA
// 12.8 or later binds cuEventElapsedTime_v2, an older one (issue 21, C: it has no _v2,
// and parc-run said "no GPU was found") binds cuEventElapsedTime; both bind
// cuDriverGetVersion. A library without a required entry point names it.
//
//===----------------------------------------------------------------------===//

#include "cuda/CudaApi.h"

#include <gtest/gtest.h>

using namespace parc::rt;

namespace {

TEST(CudaApiTest, ADriverOf128OrLaterTimesWithTheSecondVersion) {
  cuda::Driver driver{};
  std::string error;
  ASSERT_TRUE(cuda::loadDriver(driver, error, PARC_FAKE_DRIVER_NEW)) << error;
  float ms = 0;
  ASSERT_EQ(driver.eventElapsedTime(&ms, nullptr, nullptr), 0);
  EXPECT_EQ(ms, 1.5f);
  int version = 0;
  ASSERT_EQ(driver.driverGetVersion(&version), 0);
  EXPECT_EQ(version, 12080);
}

TEST(CudaApiTest, AnOlderDriverTimesWithTheFirstVersion) {
  cuda::Driver driver{};
  std::string error;
  ASSERT_TRUE(cuda::loadDriver(driver, error, PARC_FAKE_DRIVER_OLD)) << error;
  float ms = 0;
  ASSERT_EQ(driver.eventElapsedTime(&ms, nullptr, nullptr), 0);
  EXPECT_EQ(ms, 2.5f);
}

TEST(CudaApiTest, ALibraryWithoutTheDriverNamesTheEntryPoint) {
  cuda::Driver driver{};
  std::string error;
  EXPECT_FALSE(cuda::loadDriver(driver, error, PARC_FAKE_NOT_A_DRIVER));
  EXPECT_EQ(error, "the library has no cuInit");
}

} // namespace
