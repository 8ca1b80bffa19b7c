# RUN: rm -rf %t && mkdir -p %t
# Every gradient rule, run: loss = sum(op(inputs) * r) is differentiated by
# parc-differentiate, compiled and run on the CPU backend, and each input's gradient is
# compared with torch.autograd (relative L2 error at most 1e-5; f32).
# RUN: %python %pylib/check_gradients.py --work %t | FileCheck %s
# CHECK: add (broadcast): {{.*}} ok
# CHECK: matmul (batch broadcast): {{.*}} ok
# CHECK: cumsum: {{.*}} ok
# CHECK: cumsum (axis 0): {{.*}} ok
# CHECK: softmax: {{.*}} ok
# CHECK: gather (embedding): {{.*}} ok
# CHECK: gather_elements: {{.*}} ok
# CHECK: gather_elements (axis 0): {{.*}} ok
# CHECK: top_k values: {{.*}} ok
# CHECK-NOT: TOO LARGE
# CHECK-NOT: failed
