# REQUIRES: nvrtc
# RUN: rm -rf %t && mkdir -p %t
# A CUDA artifact compiled with --random-weights makes up the same weights as a CPU one, so
# the CUDA backend (here its emulator) matches the CPU backend; --profile-json on the
# CUDA backend lists the GEMMs and fused kernels.
# RUN: %python %models/make_model.py gpt2 %t/gpt2.onnx --batch 2 --reference %t/ref
# RUN: parc-compile %t/gpt2.onnx --random-weights -o %t/cpu.parc
# RUN: parc-run %t/cpu.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/cpu
# RUN: parc-compile %t/gpt2.onnx --target=cuda --random-weights -o %t/cuda.parc
# RUN: env PARC_CUDA_EMULATOR=1 parc-run %t/cuda.parc --input input_ids=%t/ref/input_ids.npy --output-dir %t/cuda --profile-json %t/profile.json
# RUN: %python %pylib/compare_outputs.py %t/cuda %t/cpu --names logits --max-rel-l2 1e-5
# RUN: %python %pylib/check_profile_json.py %t/profile.json --instructions-at-least 10 --gemms-at-least 4 | FileCheck %s
# CHECK: profile: {{[0-9]+}} instructions, {{[0-9]+}} GEMMs, device 'the CUDA emulator {{.*}}', 1 runs: ok
