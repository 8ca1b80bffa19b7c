"""Writes a parc training checkpoint back into the ONNX model it was trained from.

    python -m parc.checkpoint MODEL.onnx CHECKPOINT_DIR -o TRAINED.onnx
    python -m parc.checkpoint merge NODE_DIR [NODE_DIR ...] -o CHECKPOINT_DIR

`parc-run --save DIR` writes every trained parameter as a whole tensor, `DIR/<name>.npy`
(the initializer's name with '/' replaced by '_'), next to the optimizer state
(`<name>.momentum_buffer`, `<name>.exp_avg`, `<name>.exp_avg_sq`, `optimizer.step`). This
replaces each initializer that has a checkpoint file by the file's tensor and writes a new
model; the optimizer state is not part of the model and is left out. A file whose shape or
dtype differs from its initializer's, a parameter file that matches no initializer, or a
checkpoint matching none at all is an error (and no output file is written).

`merge` joins the per-node parts of a checkpoint a run across machines wrote into folders
that are not shared (each node's `--save DIR` holds the tensors its ranks wrote): every
tensor once, a tensor two nodes both wrote (a tied embedding two stages hold) identical in
both, and `parc-steps.txt` (after how many steps) the same in every part that has one. The
merged folder appears complete or not at all.
"""

import argparse
import os
import sys
import tempfile

import numpy as np

OPTIMIZER_STATE_SUFFIXES = (".momentum_buffer", ".exp_avg", ".exp_avg_sq")


class CheckpointError(Exception):
    pass


def _file_name(initializer_name):
    return initializer_name.replace("/", "_") + ".npy"


def _is_optimizer_state(stem):
    return stem == "optimizer.step" or stem.endswith(OPTIMIZER_STATE_SUFFIXES)


def export_onnx(model_path, checkpoint_dir, output_path):
    """Writes `model_path` with its initializers replaced from `checkpoint_dir` to
    `output_path`; returns the names of the replaced initializers."""
    import onnx
    from onnx import numpy_helper

    if not os.path.isdir(checkpoint_dir):
        raise CheckpointError("%s: not a checkpoint folder (parc-run --save DIR)"
                              % checkpoint_dir)
    model = onnx.load(model_path)
    files = {name for name in os.listdir(checkpoint_dir) if name.endswith(".npy")}
    replaced = []
    for index, initializer in enumerate(model.graph.initializer):
        file = _file_name(initializer.name)
        if file not in files:
            continue
        files.discard(file)
        array = np.load(os.path.join(checkpoint_dir, file))
        old = numpy_helper.to_array(initializer)
        if array.shape != old.shape or array.dtype != old.dtype:
            raise CheckpointError("%s holds %s %s, but initializer '%s' is %s %s"
                                  % (file, array.dtype, list(array.shape),
                                     initializer.name, old.dtype, list(old.shape)))
        model.graph.initializer[index].CopyFrom(
            numpy_helper.from_array(array, initializer.name))
        replaced.append(initializer.name)
    unmatched = sorted(f for f in files if not _is_optimizer_state(f[:-len(".npy")]))
    if unmatched:
        raise CheckpointError("%s: no initializer of %s for %s"
                              % (checkpoint_dir, model_path, ", ".join(unmatched)))
    if not replaced:
        raise CheckpointError("%s: no file matches an initializer of %s"
                              % (checkpoint_dir, model_path))
    # Written beside the target and renamed: a failure leaves no half-written model.
    folder = os.path.dirname(os.path.abspath(output_path))
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".onnx.tmp")
    os.close(handle)
    try:
        onnx.save(model, temporary)
        os.replace(temporary, output_path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return replaced


STEPS_FILE = "parc-steps.txt"


def merge(parts, output):
    """Writes the union of the checkpoint folders `parts` into `output`; returns the number
    of tensors."""
    import shutil

    chosen, steps = {}, {}
    for part in parts:
        if not os.path.isdir(part):
            raise CheckpointError("%s: not a checkpoint folder (parc-run --save DIR)" % part)
        for name in sorted(os.listdir(part)):
            path = os.path.join(part, name)
            if name == STEPS_FILE:
                with open(path) as file:
                    steps[part] = file.read().strip()
            elif name.endswith(".npy"):
                if name in chosen:
                    with open(chosen[name], "rb") as a, open(path, "rb") as b:
                        if a.read() != b.read():
                            raise CheckpointError("%s and %s differ: the parts are not of one "
                                                  "checkpoint" % (chosen[name], path))
                else:
                    chosen[name] = path
    if len(set(steps.values())) > 1:
        raise CheckpointError("the parts were taken after different steps: %s" % ", ".join(
            "%s: %s" % (part, count) for part, count in sorted(steps.items())))
    if not chosen:
        raise CheckpointError("no tensors in %s" % ", ".join(parts))
    folder = os.path.dirname(os.path.abspath(output))
    staging = tempfile.mkdtemp(dir=folder, prefix=".parc-merge-")
    try:
        for name, path in chosen.items():
            shutil.copyfile(path, os.path.join(staging, name))
        if steps:
            with open(os.path.join(staging, STEPS_FILE), "w") as file:
                file.write(next(iter(steps.values())) + "\n")
        if os.path.exists(output):
            raise CheckpointError("%s exists; choose a new folder" % output)
        os.rename(staging, output)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
    return len(chosen)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["merge"]:
        parser = argparse.ArgumentParser(prog="python -m parc.checkpoint merge",
                                         description="Joins per-node checkpoint folders.")
        parser.add_argument("parts", nargs="+")
        parser.add_argument("-o", "--output", required=True)
        args = parser.parse_args(argv[1:])
        try:
            count = merge(args.parts, args.output)
        except (CheckpointError, OSError) as error:
            print("parc.checkpoint: error: %s" % error, file=sys.stderr)
            return 1
        print("parc.checkpoint: wrote %s (%d tensors from %d parts)"
              % (args.output, count, len(args.parts)))
        return 0
    parser = argparse.ArgumentParser(prog="python -m parc.checkpoint",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("checkpoint")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    try:
        replaced = export_onnx(args.model, args.checkpoint, args.output)
    except (CheckpointError, OSError) as error:
        print("parc.checkpoint: error: %s" % error, file=sys.stderr)
        return 1
    print("parc.checkpoint: wrote %s (%d trained initializers)" % (args.output, len(replaced)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
