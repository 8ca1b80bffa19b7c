"""Runs a model with onnxruntime on the inputs in a reference folder.

    python run_onnxruntime.py MODEL.onnx INPUT_DIR OUT_DIR [--threads N]

Reads INPUT_DIR/<input name>.npy for every graph input and writes OUT_DIR/<output name>.npy,
so that parc's outputs can be compared with onnxruntime's (an independent executor).
"""

import argparse
import os

import numpy as np
import onnxruntime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("inputs")
    parser.add_argument("out")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    session = onnxruntime.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(os.path.join(args.inputs, i.name + ".npy")) for i in session.get_inputs()}
    os.makedirs(args.out, exist_ok=True)
    for output, value in zip(session.get_outputs(), session.run(None, feeds)):
        np.save(os.path.join(args.out, output.name + ".npy"), value)


if __name__ == "__main__":
    main()
