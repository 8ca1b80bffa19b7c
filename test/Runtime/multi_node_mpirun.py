# REQUIRES: mpirun
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t %models %pylib
# One parc-run per rank started by Open MPI's mpirun (Debian's openmpi-bin,
# --oversubscribe): each reads OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK, rank 0 serves the job
# store on MASTER_PORT, and the tp=2 x pp=2 logits match the single-node run (1e-5); the
# same artifact trains at dp=2 x tp=2 to PyTorch's losses (1e-4).
import os
import subprocess
import sys

work, models, pylib = sys.argv[1:4]
sys.path.insert(0, pylib)
from gpt2_layouts import tp2pp2_gpt2  # noqa: E402
from ports import free_port  # noqa: E402
python = sys.executable


def mpirun(arguments):
    command = ["mpirun", "--oversubscribe", "-np", "4", "-x", "MASTER_PORT=%d" % free_port()]
    if os.geteuid() == 0:
        command.insert(1, "--allow-run-as-root")
    return subprocess.run(command + ["parc-run"] + arguments, capture_output=True, text=True,
                          timeout=300)


artifact, inputs, single = tp2pp2_gpt2(work, models)
run = mpirun([artifact, "--output-dir", os.path.join(work, "mpi")] + inputs)
assert run.returncode == 0, run.stderr
subprocess.run([python, os.path.join(pylib, "compare_outputs.py"), os.path.join(work, "mpi"),
                single, "--names", "logits", "--max-rel-l2", "1e-5"], check=True)

subprocess.run([python, os.path.join(models, "train_reference.py"), "gpt2", os.path.join(work, "sgd"),
                "--steps", "4", "--optimizer", "sgd", "--lr", "0.1"], check=True, stdout=subprocess.DEVNULL)
training = os.path.join(work, "train.parc")
subprocess.run(["parc-compile", os.path.join(work, "sgd", "model.onnx"), "--train", "--dp=2", "--tp=2",
                "--optimizer=sgd", "--lr=0.1", "-o", training], check=True)
run = mpirun([training, "--steps", "4", "--input", "input_ids=" + os.path.join(work, "sgd", "input_ids.npy"),
              "--input", "labels=" + os.path.join(work, "sgd", "labels.npy")])
assert run.returncode == 0, run.stderr
with open(os.path.join(work, "losses.txt"), "w") as file:
    file.write(run.stdout)
subprocess.run([python, os.path.join(pylib, "compare_losses.py"), os.path.join(work, "losses.txt"),
                os.path.join(work, "sgd", "losses.txt"), "--max-rel", "1e-4"], check=True)
print("mpirun -np 4: the single-node logits and PyTorch's losses")
