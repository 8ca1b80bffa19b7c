# RUN: rm -rf %t && mkdir -p %t
# The conformance harness holds every case to its pinned outcome: with the real pins a
# filtered run passes; a pin file that says a passing case is unsupported, that a failing
# case passes, or that it fails for another reason makes the run fail and name the case.
# RUN: %python %src/test/conformance/onnx_node_tests.py --bin %parc_bin --filter 'test_softmax_example*' | FileCheck %s --check-prefix=SAME
# SAME: cases: 3 passed, 0 expected failures, 0 unsupported
# SAME: pinned: 3 passed, 0 expected failures, 0 unsupported; 0 outcomes changed
# RUN: sed -e 's/^test_softmax_example pass$/test_softmax_example unsupported/' \
# RUN:     -e 's/^test_add_uint8 fail dtype$/test_add_uint8 pass/' \
# RUN:     -e 's/^test_not_2d fail old-opset$/test_not_2d fail dtype/' \
# RUN:     %src/test/conformance/expected_results.txt > %t/pins.txt
# RUN: not %python %src/test/conformance/onnx_node_tests.py --bin %parc_bin --expected-results %t/pins.txt --filter 'test_[san][odo][ftd]*' > %t/changed.txt
# RUN: FileCheck %s --check-prefix=CHANGED --input-file %t/changed.txt
# CHANGED-DAG: CHANGED: test_softmax_example (Softmax): pinned unsupported, now pass
# CHANGED-DAG: CHANGED: test_add_uint8 (Add): pinned pass, now fail dtype: compile: {{.*}}element type
# CHANGED-DAG: CHANGED: test_not_2d (Not): pinned fail dtype, now fail old-opset: compile: {{.*}}opset
