#!/usr/bin/env python3
"""Exports a test model for training and records PyTorch's loss trajectory on it.

    python train_reference.py NAME OUT_DIR --steps N --optimizer sgd|adamw --lr F
        [--momentum F] [--weight-decay F] [--beta1 F] [--beta2 F] [--eps F] [--batch B]

Builds NAME from make_model.py with dropout disabled, exports it for training (parameters
kept distinct and tied weights tied: torch.onnx.export in training mode without constant
folding) to OUT_DIR/model.onnx, writes N batches of inputs and labels stacked along dim 0
(OUT_DIR/<input>.npy, OUT_DIR/labels.npy: what parc-run --steps N reads), trains a copy of
the model for N steps with torch.optim and writes the loss of each step, before its update,
to OUT_DIR/losses.txt (one per line). Token models use cross-entropy over the vocabulary,
the others mean squared error against random targets.
"""

import argparse
import os
import warnings

import numpy as np
import torch

import make_model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=make_model.MODEL_NAMES)
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seq", type=int, default=None,
                        help="sequence length (default: make_model's)")
    parser.add_argument("--optimizer", choices=("sgd", "adamw"), default="sgd")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--beta1", type=float, default=0.9)
    parser.add_argument("--beta2", type=float, default=0.999)
    parser.add_argument("--eps", type=float, default=1e-8)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    warnings.filterwarnings("ignore")  # the exporter's deprecation and tracer notes

    spec = make_model.build_model(args.name)
    module = spec.module
    for sub in module.modules():
        if isinstance(sub, torch.nn.Dropout):
            sub.p = 0.0
        # An embedding's padding_idx (BERT's pad token 0) freezes that row in PyTorch: its
        # gradient is zeroed inside the embedding's backward. The ONNX export keeps only a
        # Gather, so the graph parc trains updates the row like any other; the reference
        # trains the graph as exported.
        if isinstance(sub, torch.nn.Embedding):
            sub.padding_idx = None
    module.train()
    seq = args.seq or make_model.DEFAULT_SEQ
    generator = torch.Generator().manual_seed(make_model.INPUT_SEED)
    batches, labels = [], []
    for _ in range(args.steps):
        inputs = make_model.make_inputs(spec, args.batch, seq,
                                        seed=int(torch.randint(0, 2**31, (1,), generator=generator)))
        batches.append(inputs[spec.input_name])
        with torch.no_grad():
            shape = module(**inputs).shape
        if spec.takes_token_ids:
            labels.append(torch.randint(0, shape[-1], shape[:-1], generator=generator))
        else:
            labels.append(torch.randn(shape, generator=generator))

    with spec.export_context():
        torch.onnx.export(module, (batches[0],), os.path.join(args.out, "model.onnx"),
                          input_names=[spec.input_name], output_names=[spec.output_name],
                          opset_version=make_model.TORCHSCRIPT_OPSET,
                          training=torch.onnx.TrainingMode.TRAINING,
                          do_constant_folding=False, dynamo=False)
    np.save(os.path.join(args.out, spec.input_name + ".npy"), torch.cat(batches).numpy())
    np.save(os.path.join(args.out, "labels.npy"), torch.cat(labels).numpy())

    for parameter in module.parameters():
        parameter.requires_grad_(True)
    if args.optimizer == "sgd":
        optimizer = torch.optim.SGD(module.parameters(), lr=args.lr, momentum=args.momentum,
                                    weight_decay=args.weight_decay)
    else:
        optimizer = torch.optim.AdamW(module.parameters(), lr=args.lr,
                                      betas=(args.beta1, args.beta2), eps=args.eps,
                                      weight_decay=args.weight_decay)
    losses = []
    for batch, label in zip(batches, labels):
        optimizer.zero_grad()
        output = module(**{spec.input_name: batch})
        if spec.takes_token_ids:
            loss = torch.nn.functional.cross_entropy(output.reshape(-1, output.shape[-1]),
                                                     label.reshape(-1))
        else:
            loss = torch.nn.functional.mse_loss(output, label)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with open(os.path.join(args.out, "losses.txt"), "w") as file:
        file.write("".join("%.9g\n" % loss for loss in losses))


if __name__ == "__main__":
    main()
