# Sanitizer and fuzzing builds (docs/reliability.md). Included by the top-level project and
# by the runtime when it builds on its own, before any target is defined.
#
#   -DPARC_SANITIZE=ON  every parc target with AddressSanitizer and UndefinedBehaviorSanitizer;
#                       any report aborts (scripts/sanitize.sh runs the test suite so).
#   -DPARC_FUZZ=ON      also libFuzzer's coverage instrumentation, and the fuzz targets link
#                       libFuzzer (scripts/fuzz.sh); needs clang (CMAKE_CXX_COMPILER=clang++-22).
# Libraries from the system (libMLIR, protobuf, Gloo, OpenBLAS) are not instrumented.
option(PARC_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(PARC_FUZZ "Build the fuzz targets with libFuzzer (clang; implies PARC_SANITIZE)" OFF)

if(PARC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PARC_FUZZ=ON needs clang, which has libFuzzer: configure with "
                        "-DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22")
  endif()
  set(PARC_SANITIZE ON CACHE BOOL "Build with AddressSanitizer and UndefinedBehaviorSanitizer"
      FORCE)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(PARC_SANITIZE)
  # Line tables only, for the reports' stack traces: gcc's -g1, clang's -gline-tables-only.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer
                      $<IF:$<CXX_COMPILER_ID:Clang>,-gline-tables-only,-g1>)
  add_link_options(-fsanitize=address,undefined)
endif()
