# RUN: rm -rf %t && mkdir -p %t
# parc-calibrate measures this machine into a machine profile in seconds: one core's f32
# GEMMs over sizes, its streaming rate and its transposes' share of it (the backend's own
# kernels), what all cores stream together, the smallest call's cost, and one ring fit of
# Gloo all-reduces, all-gathers and sends between local ranks. The profile has exactly the keys of the sample the
# compiler's reader is unit-tested on (unittests/Inputs/cpu-local-sample.json), and sane
# values: GEMM efficiencies in (0, 1] with the best at 1, flops increasing, positive
# bandwidths.
# RUN: parc-calibrate --quick -o %t/cpu.json | FileCheck %s
# CHECK: parc-calibrate: wrote {{.*}}cpu.json in {{.*}} s: f32 GEMM {{.*}} GFLOP/s per core, memory {{.*}} GB/s (transposes {{[0-9]+}}% of it; {{.*}} GB/s for all {{[0-9]+}} cores), link {{.*}} GB/s with {{.*}} us per step
# RUN: %python %s %t/cpu.json %S/../../unittests/Inputs/cpu-local-sample.json
# RUN: parc-calibrate --quick --ranks 3 -o %t/cpu3.json
# RUN: %python %s %t/cpu3.json %S/../../unittests/Inputs/cpu-local-sample.json
#
# Bad arguments are one-line errors, and leave no file.
# RUN: not parc-calibrate --ranks 1 -o %t/bad.json 2>&1 | FileCheck %s --check-prefix=RANKS
# RANKS: parc-calibrate: error: --ranks '1': expected a count from 2 to 64
# RUN: not parc-calibrate 2>&1 | FileCheck %s --check-prefix=NO-OUT
# NO-OUT: parc-calibrate: error: no output file (-o FILE.json)
# RUN: not test -e %t/bad.json
# RUN: parc-calibrate --help | FileCheck %s --check-prefix=HELP
# HELP: usage: parc-calibrate -o FILE.json [--ranks N] [--quick]
import json
import sys


def keys(value, prefix=""):
    if isinstance(value, dict):
        out = set()
        for key, item in value.items():
            out |= {prefix + key} | keys(item, prefix + key + ".")
        return out
    return set()


profile = json.load(open(sys.argv[1]))
sample = json.load(open(sys.argv[2]))
missing, extra = keys(sample) - keys(profile), keys(profile) - keys(sample)
assert not missing and not extra, (missing, extra)
device = profile["device"]
curve = device["gemm_efficiency"]
assert all(0 < e <= 1 for _, e in curve), curve
assert max(e for _, e in curve) == 1, curve
assert all(a[0] < b[0] for a, b in zip(curve, curve[1:])), curve
assert device["peak_flops"]["f32"] > 1e8, device
assert device["memory_bandwidth"] > 1e8 and device["memory_bytes"] > 1e8, device
assert 0 < device["transpose_efficiency"] <= 1, device
# All cores together stream at least about what one does (half of it: the suite runs
# another test on a core meanwhile, and the cores' measurement, all at once behind a start
# barrier, shares the machine with it), at most what each would alone.
assert (device["memory_bandwidth"] * 0.5 <= profile["node_memory_bandwidth"]
        <= device["memory_bandwidth"] * profile["devices_per_node"] * 1.25), profile
for link in ("intra_node", "inter_node"):
    assert profile[link]["bandwidth"] > 1e6 and profile[link]["latency"] >= 0, profile[link]
assert profile["devices_per_node"] >= 1 and profile["collective_algorithm"] == "ring"
print("profile ok")
