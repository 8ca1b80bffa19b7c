# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t parc-compile parc-run %models %pylib
# Runs across machines, with "nodes" as separate parc-run processes on distinct loopback
# addresses (127.0.0.2, 127.0.0.3): parc-run's per-node launcher (--nnodes --node-rank
# --master-addr --master-port --node-addr), and one parc-run per rank placed by torchrun's
# and SLURM's environment variables set by hand, and by torchrun itself. Inference at tp=2 x pp=2 on 2 nodes x 2
# ranks matches the single-node run (1e-5); SGD training at dp=2 x tp=2 on 2 nodes gives
# PyTorch's losses (1e-4) and --save writes the single-node run's checkpoint. Then the
# faults: kill -9 of one node's launcher, SIGSTOP of one rank, a node that never starts, a
# mismatched artifact, a port in use: every node exits non-zero within 10 s (the
# never-joining case within the short --rendezvous-timeout), names the failed rank and
# node, leaves no output file and no process behind.
import os
import signal
import socket
import subprocess
import sys
import time

work, compile_tool, run_tool, models, pylib = sys.argv[1:6]
python = sys.executable
sys.path.insert(0, pylib)
from gpt2_layouts import tp2pp2_gpt2  # noqa: E402
from ports import free_port  # noqa: E402
from processes import processes_with  # noqa: E402


def check(command, **kwargs):
    subprocess.run(command, check=True, **kwargs)


def node_command(artifact, node, port, out, extra=()):
    return [run_tool, artifact, "--nnodes=2", "--node-rank=%d" % node, "--master-addr=127.0.0.1",
            "--master-port=%d" % port, "--node-addr=127.0.0.%d" % (2 + node),
            "--output-dir", out] + list(extra)


def start_nodes(artifact, inputs, outs, extra=(), port=None):
    port = port or free_port()
    return [subprocess.Popen(node_command(artifact, node, port, outs[node], inputs + list(extra)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True) for node in range(2)]


def finish(processes, limit=120):
    results = []
    for p in processes:
        out, err = p.communicate(timeout=limit)
        results.append((p.returncode, out, err))
    return results


def compare(out, reference):
    check([python, os.path.join(pylib, "compare_outputs.py"), out, reference, "--names", "logits",
           "--max-rel-l2", "1e-5"])


def leftover_processes(marker):
    """The pids of the processes (other than this one) whose command line mentions `marker`."""
    return [pid for pid, _ in processes_with(marker)]


def visible_files(folder):
    return [name for name in os.listdir(folder) if not name.startswith(".")] if os.path.isdir(folder) else []


# --- Inference: tp=2 x pp=2 on 2 nodes x 2 ranks --------------------------------------------
artifact, inputs, single = tp2pp2_gpt2(work, models, compile_tool, run_tool)
compare(single, os.path.join(work, "reference"))

outs = [os.path.join(work, "node0"), os.path.join(work, "node1")]
results = finish(start_nodes(artifact, inputs, outs))
assert all(code == 0 for code, _, _ in results), results
# The logits' owner (the lowest rank holding them: the last stage's tp rank 0) is on node 1.
assert visible_files(outs[0]) == [] and visible_files(outs[1]) == ["logits.npy"], (
    os.listdir(outs[0]), os.listdir(outs[1]))
compare(outs[1], single)
print("two nodes x two ranks: the single-node logits")

# --print-env says what it read and which rank it is.
env = dict(os.environ, SLURM_PROCID="3", SLURM_NTASKS="4", SLURM_LOCALID="1",
           SLURM_NTASKS_PER_NODE="2", SLURM_LAUNCH_NODE_IPADDR="127.0.0.1")
printed = subprocess.run([run_tool, artifact, "--print-env"], env=env, capture_output=True,
                         text=True, check=True).stdout
assert "placed by SLURM (SLURM_PROCID=3 SLURM_NTASKS=4 SLURM_LOCALID=1" in printed, printed
assert "global rank 3 of 4, local rank 1, node 1 of 2 (2 ranks per node)" in printed, printed
assert "master 127.0.0.1:29500, rendezvous tcp://127.0.0.1:29500" in printed, printed

# One parc-run per rank, placed by torchrun's and SLURM's variables set by hand.
launchers = {
    "torchrun": lambda rank, port: {"RANK": str(rank), "WORLD_SIZE": "4", "LOCAL_RANK": str(rank % 2),
                                    "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
                                    "MASTER_PORT": str(port)},
    "SLURM": lambda rank, port: {"SLURM_PROCID": str(rank), "SLURM_NTASKS": "4",
                                 "SLURM_LOCALID": str(rank % 2), "SLURM_NTASKS_PER_NODE": "2",
                                 "SLURM_LAUNCH_NODE_IPADDR": "127.0.0.1", "MASTER_PORT": str(port)},
}
clean = {k: v for k, v in os.environ.items()
         if not k.startswith(("SLURM_", "OMPI_")) and k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
for name, variables in launchers.items():
    port = free_port()
    out = os.path.join(work, "per-rank-" + name)
    ranks = [subprocess.Popen([run_tool, artifact, "--output-dir", out,
                               "--node-addr=127.0.0.%d" % (2 + rank // 2)] + inputs,
                              env=dict(clean, **variables(rank, port)), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for rank in range(4)]
    results = finish(ranks)
    assert all(code == 0 for code, _, _ in results), (name, results)
    compare(out, single)
    print("%s's variables: the single-node logits" % name)

# torchrun itself (PyTorch's launcher) starting one parc-run per rank: its own store takes
# --master-port, parc-run's job store another.
out = os.path.join(work, "torchrun")
started = subprocess.run([python, "-m", "torch.distributed.run", "--nnodes=1", "--nproc-per-node=4",
                          "--master-port=%d" % free_port(), "--no-python", run_tool, artifact,
                          "--master-port=%d" % free_port(), "--output-dir", out] + inputs,
                         env=clean, capture_output=True, text=True, timeout=300)
assert started.returncode == 0, started.stderr
compare(out, single)
print("torchrun --nproc-per-node=4: the single-node logits")

# --- Training: dp=2 x tp=2 on 2 nodes ---------------------------------------------------------
check([python, os.path.join(models, "train_reference.py"), "gpt2", os.path.join(work, "sgd"),
       "--steps", "4", "--batch", "2", "--optimizer", "sgd", "--lr", "0.1"], stdout=subprocess.DEVNULL)
training = os.path.join(work, "train.parc")
check([compile_tool, os.path.join(work, "sgd", "model.onnx"), "--train", "--dp=2", "--tp=2",
       "--optimizer=sgd", "--lr=0.1", "-o", training])
train_inputs = ["--steps", "4", "--input", "input_ids=" + os.path.join(work, "sgd", "input_ids.npy"),
                "--input", "labels=" + os.path.join(work, "sgd", "labels.npy")]
check([run_tool, training, "--save", os.path.join(work, "ckpt-single")] + train_inputs,
      stdout=subprocess.DEVNULL)
shared = os.path.join(work, "ckpt-shared")
results = finish(start_nodes(training, train_inputs, outs, ["--save", shared]))
assert all(code == 0 for code, _, _ in results), results
losses = os.path.join(work, "losses.txt")
with open(losses, "w") as file:
    file.write("".join(out for _, out, _ in results))
check([python, os.path.join(pylib, "compare_losses.py"), losses,
       os.path.join(work, "sgd", "losses.txt"), "--max-rel", "1e-4"])
import numpy as np  # noqa: E402
single_files = sorted(os.listdir(os.path.join(work, "ckpt-single")))
assert sorted(os.listdir(shared)) == single_files and single_files, os.listdir(shared)
assert open(os.path.join(shared, "parc-steps.txt")).read() == "4\n"
for name in (f for f in single_files if f.endswith(".npy")):
    a = np.load(os.path.join(work, "ckpt-single", name))
    b = np.load(os.path.join(shared, name))
    assert a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-6), name
assert not os.path.exists(shared + ".partial")
print("training dp=2 x tp=2 on two nodes: PyTorch's losses, the single-node checkpoint")

# The same training with one parc-run per rank, placed by torchrun's and SLURM's variables.
for name, variables in launchers.items():
    port = free_port()
    ranks = [subprocess.Popen([run_tool, training, "--node-addr=127.0.0.%d" % (2 + rank // 2)]
                              + train_inputs, env=dict(clean, **variables(rank, port)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank in range(4)]
    results = finish(ranks)
    assert all(code == 0 for code, _, _ in results), (name, results)
    with open(losses, "w") as file:
        file.write("".join(out for _, out, _ in results))
    check([python, os.path.join(pylib, "compare_losses.py"), losses,
           os.path.join(work, "sgd", "losses.txt"), "--max-rel", "1e-4"], stdout=subprocess.DEVNULL)
    print("training under %s's variables: PyTorch's losses" % name)

# Per-node checkpoint folders (not shared): at tp=2 x pp=2 each node holds one stage and
# keeps its tensors, and `python -m parc.checkpoint merge` joins them into the single-node
# checkpoint.
staged = os.path.join(work, "train-pp.parc")
check([compile_tool, os.path.join(work, "sgd", "model.onnx"), "--train", "--pp=2", "--tp=2",
       "--microbatches=2", "--optimizer=sgd", "--lr=0.1", "-o", staged])
parts = [os.path.join(work, "ckpt-node0"), os.path.join(work, "ckpt-node1")]
nodes = [subprocess.Popen(node_command(staged, node, port, outs[node],
                                       train_inputs + ["--save", parts[node]]),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
         for port in [free_port()] for node in range(2)]
for node in nodes:
    _, err = node.communicate(timeout=120)
    assert node.returncode == 0, err
staged_single = os.path.join(work, "ckpt-staged-single")
check([run_tool, staged, "--save", staged_single] + train_inputs, stdout=subprocess.DEVNULL)
merged = os.path.join(work, "ckpt-merged")
frontend = os.path.join(os.path.dirname(os.path.dirname(pylib)), "python-frontend")
check([python, "-m", "parc.checkpoint", "merge"] + parts + ["-o", merged],
      env=dict(os.environ, PYTHONPATH=frontend))
assert sorted(os.listdir(merged)) == sorted(os.listdir(staged_single)), os.listdir(merged)
for name in os.listdir(staged_single):
    assert open(os.path.join(merged, name), "rb").read() == open(
        os.path.join(staged_single, name), "rb").read(), name
print("per-node checkpoint folders merged: the single-node checkpoint")

# --max-restarts=1 --save-every=2 with one rank killed at step 5 of 10: both nodes restart
# their ranks from the checkpoint after step 3 and the losses equal the uninterrupted run's.
check([python, os.path.join(models, "train_reference.py"), "gpt2", os.path.join(work, "sgd10"),
       "--steps", "10", "--optimizer", "sgd", "--lr", "0.1"], stdout=subprocess.DEVNULL)
training10 = os.path.join(work, "train10.parc")
check([compile_tool, os.path.join(work, "sgd10", "model.onnx"), "--train", "--dp=2", "--tp=2",
       "--optimizer=sgd", "--lr=0.1", "-o", training10])
inputs10 = ["--steps", "10", "--input", "input_ids=" + os.path.join(work, "sgd10", "input_ids.npy"),
            "--input", "labels=" + os.path.join(work, "sgd10", "labels.npy")]
uninterrupted = os.path.join(work, "uninterrupted.txt")
with open(uninterrupted, "w") as file:
    check([run_tool, training10] + inputs10, stdout=file)
port, restart_ckpt = free_port(), os.path.join(work, "ckpt-restart")
nodes = [subprocess.Popen(node_command(training10, node, port, outs[node],
                                       inputs10 + ["--save", restart_ckpt, "--save-every=2",
                                                   "--max-restarts=1"]),
                          env=dict(os.environ, PARC_FAULT="3:5:kill"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) for node in range(2)]
results = finish(nodes, 300)
assert all(code == 0 for code, _, _ in results), results
assert all("restarting the job from the checkpoint %s (after step 3) (restart 1 of 1)" % restart_ckpt
           in err for _, _, err in results), [err for _, _, err in results]
restarted = os.path.join(work, "restarted.txt")
with open(restarted, "w") as file:
    file.write("".join(out for _, out, _ in results))
compared = subprocess.run([python, os.path.join(pylib, "compare_losses.py"), restarted, uninterrupted,
                           "--exact"], capture_output=True, text=True)
assert compared.returncode == 0 and "step 9:" in compared.stdout, compared.stdout
print("a rank killed at step 5 of 10, --max-restarts=1 --save-every=2: the uninterrupted losses")


# --- Faults ---------------------------------------------------------------------------------
def rank_pid(rank, marker):
    for pid, command in processes_with(marker):
        if (command + " ").find("--worker-rank %d " % rank) >= 0:
            return pid
    raise AssertionError("no process of rank %d" % rank)


def fault(name, act, expect, long_run=True):
    """Starts two nodes on a long run, applies `act` after they run, and checks the ends."""
    outs = [os.path.join(work, name + "-node0"), os.path.join(work, name + "-node1")]
    marker = os.path.join(work, name + "-node")
    extra = ["--repeat", "100000"] if long_run else []
    processes = start_nodes(artifact, inputs, outs, extra)
    time.sleep(2.5)
    begin = time.monotonic()
    act(processes, marker)
    codes = []
    for p in processes:
        try:
            _, err = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            raise AssertionError("%s: a node did not end" % name)
        codes.append((p.returncode, time.monotonic() - begin, err.strip()))
    time.sleep(0.3)
    left = leftover_processes(marker)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, (name, "processes left", left)
    for code, seconds, err in codes:
        assert code != 0 and seconds < 10, (name, codes)
    messages = [err for _, _, err in codes if err]
    assert messages and all(expect in message for message in messages), (name, codes)
    for out in outs:
        assert visible_files(out) == [], (name, os.listdir(out))
    print("%s: every node ended within %.1f s: %s" % (name, max(s for _, s, _ in codes), messages[0]))


fault("kill-launcher", lambda p, m: p[1].kill(), "on node 1 (127.0.0.3) ended or lost its connection")
fault("sigstop-rank", lambda p, m: os.kill(rank_pid(3, m), signal.SIGSTOP), "rank 3")

# A node that never starts: node 0 alone ends after the rendezvous timeout, naming the
# missing ranks.
out = os.path.join(work, "lonely")
begin = time.monotonic()
lonely = subprocess.run(node_command(artifact, 0, free_port(), out, inputs + ["--rendezvous-timeout=2"]),
                        capture_output=True, text=True, timeout=30)
assert lonely.returncode != 0 and time.monotonic() - begin < 8, lonely
assert "waiting for world ranks 2,3 to join" in lonely.stderr, lonely.stderr
assert visible_files(out) == []
print("a node that never starts: " + lonely.stderr.strip())

# A mismatched artifact: node 1 holds another layout's artifact.
other = os.path.join(work, "other.parc")
check([compile_tool, os.path.join(work, "gpt2.onnx"), "--tp=2", "--pp=2", "--microbatches=1", "-o",
       other])
port = free_port()
begin = time.monotonic()
mixed = [subprocess.Popen(node_command(a, node, port, os.path.join(work, "mixed%d" % node), inputs),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
         for node, a in enumerate([artifact, other])]
results = finish(mixed, 30)
assert all(code != 0 for code, _, _ in results) and time.monotonic() - begin < 10, results
for _, _, err in results:
    assert "on node 1 (127.0.0.3): " + other in err and "is not rank 0's job: rank 0 has " + artifact in err, err
print("mismatched artifacts: " + results[0][2].strip())

# A port in use by another program: rank 0 cannot serve, the others find no job store.
holder = socket.socket()
holder.bind(("127.0.0.1", 0))
holder.listen()
port = holder.getsockname()[1]
begin = time.monotonic()
results = finish(start_nodes(artifact, inputs, [os.path.join(work, "busy0"), os.path.join(work, "busy1")],
                             port=port), 30)
holder.close()
assert all(code != 0 for code, _, _ in results) and time.monotonic() - begin < 10, results
assert "cannot serve the job store on 0.0.0.0:%d" % port in results[0][2], results[0][2]
assert "does not answer as parc-run's job store" in results[1][2], results[1][2]
print("a port in use: " + results[1][2].strip())
