# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %models/make_model.py gpt2 %t/inference.onnx --reference %t/inference
# RUN: %python %models/train_reference.py gpt2 %t/training --steps 3 --optimizer sgd --lr 0.1 --batch 4
# RUN: %python %s --bin %parc_bin --work %t --runs 120 --seed 20261207 | FileCheck %s
#
# The fault-injection campaign: 120 runs of parc-run over inference and training layouts
# (tp, pp, dp and mixed, 2 and 4 ranks), each making one random rank fail at a random run
# or step (or, in training with --save, just before the checkpoint is written) in one of
# five ways (PARC_FAULT, runtime/lib/Fault.h): SIGKILL, SIGABRT, SIGSTOP, shutting down all
# of its sockets, or an error. Every run must:
# - exit non-zero within 10 s of the fault (the rank prints when it injects it);
# - name the failing rank in its error (`rank R`): a stopped one is named by the launcher
#   after it stays stopped for 2 s, a killed one by its exit signal, a failing one by its
#   error; one that lost its network by the first error it or a peer saw, which names the
#   group whose connection broke (and, in a group of two, the rank at the other end);
# - leave no output file, no trace, no half checkpoint (a previous checkpoint in --save's
#   folder is byte for byte what it was), nothing in the temporary directory and no
#   process behind.
# Then each training layout resumes from its (intact) checkpoint. The summary line counts
# the runs, the faults detected, and the seconds from each fault to the job's exit.
# CHECK: fault campaign: 120 runs, 120 failures detected, 0 problems; seconds to detect: max {{[0-9.]+}}, median {{[0-9.]+}}
# CHECK: faults: kill {{[1-9][0-9]*}}, abort {{[1-9][0-9]*}}, stop {{[1-9][0-9]*}}, close {{[1-9][0-9]*}}, error {{[1-9][0-9]*}}
# CHECK: resumed from the checkpoints the faults left: 4 of 4 layouts

import argparse
import hashlib
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from processes import processes_with  # noqa: E402

ACTIONS = ["kill", "abort", "stop", "close", "error"]
DETECT_WITHIN = 10.0  # seconds from the fault to the job's exit
RUNS_PER_JOB = 3      # inference runs (--repeat) or training steps (--steps)

INFERENCE_LAYOUTS = [["--tp=2"], ["--pp=2", "--microbatches=2"], ["--dp=2"],
                     ["--tp=2", "--pp=2", "--microbatches=2"]]
TRAINING_LAYOUTS = [["--tp=2"], ["--pp=2", "--microbatches=2"], ["--dp=2"],
                    ["--dp=2", "--tp=2"]]
TRAIN_FLAGS = ["--train", "--loss=cross_entropy", "--optimizer=sgd", "--lr=0.1"]


def ranks_of(layout):
    ranks = 1
    for flag in layout:
        name, value = flag.lstrip("-").split("=")
        if name in ("tp", "pp", "dp"):
            ranks *= int(value)
    return ranks


def digest(folder):
    """A hash of every file's name and bytes under `folder` (None if absent)."""
    if not os.path.isdir(folder):
        return None
    h = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(folder)):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            h.update(os.path.relpath(path, folder).encode())
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


class Job:
    """One compiled layout and how to run it."""

    def __init__(self, args, train, layout, index):
        self.train, self.layout, self.ranks = train, layout, ranks_of(layout)
        kind = "training" if train else "inference"
        self.name = "%s %s" % (kind, " ".join(f.lstrip("-") for f in layout))
        self.dir = os.path.join(args.work, "%s-%d" % (kind, index))
        os.makedirs(self.dir)
        self.artifact = os.path.join(self.dir, "model.parc")
        model = os.path.join(args.work, kind, "model.onnx") if train else \
            os.path.join(args.work, "inference.onnx")
        subprocess.run([os.path.join(args.bin, "parc-compile"), model,
                        *(TRAIN_FLAGS if train else []), *layout, "-o", self.artifact],
                       check=True, capture_output=True)
        data = os.path.join(args.work, kind)
        self.inputs = (["input_ids=" + os.path.join(data, "input_ids.npy"),
                        "labels=" + os.path.join(data, "labels.npy")] if train
                       else ["input_ids=" + os.path.join(data, "input_ids.npy")])
        self.bin = args.bin
        if train:  # The checkpoint every fault must leave as it was.
            self.checkpoint = os.path.join(self.dir, "checkpoint")
            done = self.run(os.path.join(self.dir, "first"), save=self.checkpoint)
            assert done.returncode == 0, done.stderr
            self.checkpoint_digest = digest(self.checkpoint)

    def command(self, out, save=None, trace=None, resume=None):
        command = [os.path.join(self.bin, "parc-run"), self.artifact, "--output-dir", out]
        for value in self.inputs:
            command += ["--input", value]
        command += ["--steps" if self.train else "--repeat", str(RUNS_PER_JOB)]
        if save:
            command += ["--save", save]
        if trace:
            command += ["--trace", trace]
        if resume:
            command += ["--resume", resume]
        return command

    def run(self, out, save=None, env=None):
        return subprocess.run(self.command(out, save), capture_output=True, text=True,
                              env=env, timeout=60)


def names_rank(error, rank, action):
    """Whether `error` names `rank`: as `rank R`, or, for a lost network (which the rank
    at either end may notice first), as a group holding it."""
    if re.search(r"\brank %d\b" % rank, error):
        return True
    groups = re.findall(r"group \{([0-9,]+)\}", error)
    return action == "close" and any(str(rank) in group.split(",") for group in groups)


def faulty_run(job, run, rng, tmp):
    """Runs `job` with one fault; returns (problems, seconds from fault to exit or None)."""
    rank = rng.randrange(job.ranks)
    action = rng.choice(ACTIONS)
    # Every rank communicates in every run and step; writing its part of the checkpoint
    # needs no network, so a rank that loses it then has nothing left to notice.
    whens = [str(i) for i in range(RUNS_PER_JOB)]
    if job.train and action != "close":
        whens.append("save")
    when = rng.choice(whens)
    fault = "%d:%s:%s" % (rank, when, action)
    base = os.path.join(tmp, "run%03d" % run)
    out, trace = base + "-out", base + "-trace.json"
    save = None
    if job.train:  # the previous checkpoint, to be left as it is
        save = base + "-checkpoint"
        shutil.copytree(job.checkpoint, save)
    temporary = base + "-tmp"
    os.makedirs(temporary)
    env = dict(os.environ, PARC_FAULT=fault, TMPDIR=temporary)
    process = subprocess.Popen(job.command(out, save, trace), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    injected = []
    lines = []

    def read_stderr():
        for line in process.stderr:
            if "injecting PARC_FAULT" in line and not injected:
                injected.append(time.monotonic())
            lines.append(line)

    reader = threading.Thread(target=read_stderr)
    reader.start()
    try:
        process.wait(timeout=DETECT_WITHIN + 20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    ended = time.monotonic()
    reader.join()
    process.stdout.read()
    stderr = "".join(lines)
    label = "run %d (%s, PARC_FAULT=%s)" % (run, job.name, fault)
    problems = []
    seconds = ended - injected[0] if injected else None
    if not injected:
        problems.append("%s: the fault was never injected" % label)
    if process.returncode == 0:
        problems.append("%s: exited 0" % label)
    elif seconds is not None and seconds > DETECT_WITHIN:
        problems.append("%s: took %.1f s to end after the fault" % (label, seconds))
    errors = [l for l in lines if l.startswith("parc-run: error:")]
    if len(errors) != 1:
        problems.append("%s: %d error lines: %r" % (label, len(errors), stderr[-400:]))
    elif not names_rank(errors[0], rank, action):
        problems.append("%s: the error does not name rank %d: %s" % (label, rank, errors[0]))
    if os.path.exists(out) and os.listdir(out):
        problems.append("%s: left %s in the output folder" % (label, os.listdir(out)))
    if os.path.exists(trace):
        problems.append("%s: left a trace" % label)
    if save and digest(save) != job.checkpoint_digest:
        problems.append("%s: the previous checkpoint changed" % label)
    leftovers = [n for n in os.listdir(tmp) if n.startswith(os.path.basename(base)) and
                 n.endswith(".partial")]
    if leftovers or os.listdir(temporary):
        problems.append("%s: left %s" % (label, leftovers + os.listdir(temporary)))
    for _ in range(50):  # the launcher reaps every rank before it exits
        left = [pid for pid, _ in processes_with(job.artifact)]
        if not left:
            break
        time.sleep(0.02)
    if left:
        problems.append("%s: left processes %s" % (label, left))
        for pid in left:
            os.kill(pid, 9)
    for path in (out, save, temporary):
        if path:
            shutil.rmtree(path, ignore_errors=True)
    return problems, seconds, action


def main():
    parser = argparse.ArgumentParser(description="parc-run's fault-injection campaign")
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--runs", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # One batch of the training data is the inference model's input batch too.
    jobs = [Job(args, False, layout, i) for i, layout in enumerate(INFERENCE_LAYOUTS)]
    jobs += [Job(args, True, layout, i) for i, layout in enumerate(TRAINING_LAYOUTS)]
    rng = random.Random(args.seed)
    tmp = os.path.join(args.work, "runs")
    os.makedirs(tmp)
    problems, detected, seconds = [], 0, []
    actions = {action: 0 for action in ACTIONS}
    for run in range(args.runs):
        job = jobs[run % len(jobs)]
        found, took, action = faulty_run(job, run, rng, tmp)
        actions[action] += 1
        problems += found
        if not found:
            detected += 1
        if took is not None:
            seconds.append(took)
    print("fault campaign: %d runs, %d failures detected, %d problems; seconds to detect: "
          "max %.2f, median %.2f" % (args.runs, detected, len(problems), max(seconds),
                                     statistics.median(seconds)))
    print("faults: " + ", ".join("%s %d" % item for item in actions.items()))
    for problem in problems:
        print("  " + problem)
    resumed = 0
    for job in jobs:
        if not job.train:
            continue
        out = os.path.join(job.dir, "resumed")
        done = subprocess.run(job.command(out, resume=job.checkpoint),
                              capture_output=True, text=True, timeout=60)
        if done.returncode == 0 and "step=0 loss=" in done.stdout:
            resumed += 1
        else:
            print("  %s: cannot resume from its checkpoint: %s" % (job.name, done.stderr))
    print("resumed from the checkpoints the faults left: %d of %d layouts" % (
        resumed, sum(job.train for job in jobs)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
