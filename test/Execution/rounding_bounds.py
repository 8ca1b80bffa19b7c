# RUN: rm -rf %t && mkdir -p %t
# The CPU backend's f16 and bf16 results are within the error bounds of their arithmetic
# (check_rounding.py states and derives them: half an ulp of the type for the final
# rounding plus the f32 work before it), and where that rounding is the whole error the
# largest error is at least half the bound: results round to nearest even, not by
# truncation, and casts round even when the value is cast back.
# RUN: %python %pylib/check_rounding.py --work %t --target cpu | FileCheck %s
# CHECK: cpu float16 mul: largest error / bound {{0\.[5-9]|1\.000}}{{.*}} ok
# CHECK: cpu float16 add: {{.*}} ok
# CHECK: cpu float16 reduce_sum: {{.*}} ok
# CHECK: cpu float16 matmul: {{.*}} ok
# CHECK: cpu float16 softmax: {{.*}} ok
# CHECK: cpu float16 cast: {{.*}} ok
# CHECK: cpu bfloat16 mul: {{.*}} ok
# CHECK: cpu bfloat16 cast: {{.*}} ok
# CHECK-NOT: FAILED
