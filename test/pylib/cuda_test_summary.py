"""Says how many of the CUDA tests ran and why the others were UNSUPPORTED.

    python cuda_test_summary.py BUILD_DIR

Reads the lit suite's results (BUILD_DIR/test/lit-results.json, written by the ctest test
`lit`) and the CUDA features lit found (BUILD_DIR/test/cuda-features.txt, with the reason
each missing one is missing). A CUDA test is a lit test that REQUIRES one of nvrtc, nvcc,
cuobjdump, cuda-driver or cuda-toolkit. Prints one line with the counts and one per missing feature
with the tests it kept from running; the CUDA backend's unit tests (fakes of the NVIDIA
APIs and the emulator) need none of these and always run with the other unit tests.
"""

import json
import os
import re
import sys

CUDA_FEATURES = ("nvrtc", "nvcc", "cuobjdump", "cuda-driver", "cuda-toolkit")


def main():
    build = sys.argv[1]
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # test/
    results_path = os.path.join(build, "test", "lit-results.json")
    if not os.path.exists(results_path):
        print("CUDA tests: no lit results in %s (the lit suite did not run)" % results_path)
        return
    with open(results_path) as file:
        results = {test["name"].split(" :: ", 1)[-1]: test["code"]
                   for test in json.load(file)["tests"]}
    features = {}
    with open(os.path.join(build, "test", "cuda-features.txt")) as file:
        for line in file:
            name, _, state = line.strip().partition(": ")
            features[name] = state
    needs = {}
    for name in results:
        path = os.path.join(source, name)
        if not os.path.exists(path):
            continue
        with open(path) as file:
            required = [f.strip() for line in file for match in
                        [re.search(r"REQUIRES:(.*)", line)] if match
                        for f in match.group(1).split(",")]
        cuda = [f for f in required if f in CUDA_FEATURES]
        if cuda:
            needs[name] = cuda
    ran = sorted(n for n in needs if results[n] not in ("UNSUPPORTED",))
    skipped = sorted(n for n in needs if results[n] == "UNSUPPORTED")
    failed = sorted(n for n in ran if results[n] not in ("PASS", "XFAIL"))
    print("CUDA tests: %d of %d ran (%d passed, %d failed), %d UNSUPPORTED"
          % (len(ran), len(needs), len(ran) - len(failed), len(failed), len(skipped)))
    for feature in CUDA_FEATURES:
        state = features.get(feature, "unknown")
        if state == "available":
            continue
        kept = [n for n in skipped if feature in needs[n]]
        print("  %s missing: %s; UNSUPPORTED for it: %s"
              % (feature, state, ", ".join(kept) if kept else "none"))
    if skipped:
        print("  (install the CUDA 13 toolkit, nvcc, NVRTC, cuBLASLt and NCCL, under "
              "/usr/local/cuda or $CUDA_HOME to run them; see README.md)")


if __name__ == "__main__":
    main()
