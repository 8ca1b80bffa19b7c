# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t %models
# Progress on standard error, tested in both modes. Off a terminal (a pipe): parc-compile
# writes one line per finished stage (import with its op count, compile with its passes,
# write with its bytes; the layout search's count with --devices) and parc-run one line per
# training step (step, loss, tokens/s, time left), with no control characters. On a
# terminal (a pseudo-terminal) the same finished lines appear and a status line is redrawn
# in place ("\r\x1b[K") while a stage or the steps run. --quiet silences both.
import os
import pty
import re
import subprocess
import sys

work, models = sys.argv[1:3]
python = sys.executable
subprocess.run([python, os.path.join(models, "train_reference.py"), "gpt2", os.path.join(work, "ref"),
                "--steps", "6", "--optimizer", "sgd", "--lr", "0.1"], check=True,
               stdout=subprocess.DEVNULL)
onnx = os.path.join(work, "ref", "model.onnx")
artifact = os.path.join(work, "train.parc")
compile_command = ["parc-compile", onnx, "--train", "--dp=2", "--optimizer=sgd", "--lr=0.1",
                   "-o", artifact]
run_command = ["parc-run", artifact, "--steps", "6",
               "--input", "input_ids=" + os.path.join(work, "ref", "input_ids.npy"),
               "--input", "labels=" + os.path.join(work, "ref", "labels.npy")]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# Off a terminal.
compiled = subprocess.run(compile_command, capture_output=True, text=True, check=True)
lines = compiled.stderr.splitlines()
assert not CONTROL.search(compiled.stderr), repr(compiled.stderr)
assert re.fullmatch(r"parc-compile: import: \d+ ops from .*model\.onnx in [0-9.]+ m?s", lines[0]), lines
assert re.fullmatch(r"parc-compile: compile: \d+ passes, \d+ ops in [0-9.]+ m?s", lines[1]), lines
assert re.fullmatch(r"parc-compile: write: .*train\.parc, \d+ bytes, 2 ranks in [0-9.]+ m?s", lines[2]), lines
assert len(lines) == 3, lines
ran = subprocess.run(run_command, capture_output=True, text=True, check=True)
assert not CONTROL.search(ran.stderr), repr(ran.stderr)
steps = ran.stderr.splitlines()
assert len(steps) == 6, steps
for i, line in enumerate(steps):
    assert re.fullmatch(r"parc-run: step %d/6 loss [0-9.e+-]+, [0-9]+ tokens/s, [0-9.]+ (ms|s) left"
                        % (i + 1), line), line
assert steps[-1].endswith(" 0 ms left"), steps[-1]
# The losses on standard output are as before: step=<i> loss=<value>.
assert [line.split()[0] for line in ran.stdout.splitlines()] == ["step=%d" % i for i in range(6)]
searched = subprocess.run(["parc-compile", onnx, "--devices=2", "--train", "--optimizer=sgd",
                           "--cluster=dgx-a100", "--plan-only"], capture_output=True, text=True,
                          check=True)
assert re.search(r"^parc-compile: plan: \d+ layouts priced, chose tp=\d+ pp=\d+ dp=\d+ ",
                 searched.stderr, re.M), searched.stderr

# --quiet: nothing on standard error.
assert subprocess.run(compile_command + ["--quiet"], capture_output=True, text=True,
                      check=True).stderr == ""
assert subprocess.run(run_command + ["--quiet"], capture_output=True, text=True,
                      check=True).stderr == ""


def on_terminal(command):
    """What `command` writes to a pseudo-terminal (its standard output and error)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(command, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    output = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal closed
            break
        if not data:
            break
        output += data
    os.close(master)
    assert process.wait(timeout=120) == 0, output
    return output.decode()


terminal = on_terminal(compile_command)
assert "\r\x1b[Kparc-compile: importing " in terminal, repr(terminal)
assert "\r\x1b[Kparc-compile: compiling: " in terminal, repr(terminal)  # the pass running
assert re.search(r"parc-compile: write: .*train\.parc, \d+ bytes, 2 ranks in ", terminal), repr(terminal)
terminal = on_terminal(run_command)
# Steps 1-5 redraw one status line; the last step stays as a line.
assert "\r\x1b[Kparc-run: step 3/6 loss " in terminal, repr(terminal)
assert re.search(r"parc-run: step 6/6 loss [0-9.e+-]+, [0-9]+ tokens/s, 0 ms left\r?\n", terminal), repr(terminal)
assert terminal.count("step=") == 6, repr(terminal)
assert on_terminal(run_command + ["--quiet"]).count("parc-run:") == 0
print("progress: pipe and terminal modes, --quiet")
