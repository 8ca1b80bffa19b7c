#!/usr/bin/env python3
"""Exports a test model for training and records PyTorch's loss trajectory on it.

    python train_reference.py NAME OUT_DIR --steps N --optimizer sgd|adamw --lr F
        [--momentum F] [--weight-decay F] [--beta1 F] [--beta2 F] [--eps F] [--batch B]
        [--seq S] [--layers L] [--task shifted|random] [--save-weights K[,K...]]

Builds NAME from make_model.py with dropout disabled, exports it for training (parameters
kept distinct and tied weights tied: torch.onnx.export in training mode without constant
folding) to OUT_DIR/model.onnx, writes N batches of inputs and labels stacked along dim 0
(OUT_DIR/<input>.npy, OUT_DIR/labels.npy: what parc-run --steps N reads), trains a copy of
the model for N steps with torch.optim and writes the loss of each step, before its update,
to OUT_DIR/losses.txt (one per line). Token models use cross-entropy over the vocabulary,
the others mean squared error.

The task (--task) is one the model can learn, so the loss falls and the weights move
somewhere definite: `shifted` (the default) gives token models windows of one fixed cycle of
CYCLE distinct tokens (each row starts at a random place in it) with the next token of the
cycle as the label (for a model whose output is narrower than the vocabulary, BERT's hidden
state, the label modulo the output width), and
float models the input reversed along its last dim, halved, as the target (ViT, whose
output is not its input's shape: random targets). `random` gives random labels (the loss
stays near ln V whatever the weights do).

The weights are written too, so that tests can compare what training did to every
parameter and not only the loss: OUT_DIR/initial/<name>.npy before the first step,
OUT_DIR/weights-<K>/<name>.npy after K steps (--save-weights, default 1 and N), and
OUT_DIR/gradients/<name>.npy, the gradient of the first step. <name> is the parameter's
ONNX initializer name, as parc-run --save names its files; a tied weight appears once.
OUT_DIR/grad_norms.txt holds the global gradient L2 norm of each step, one per line, and
OUT_DIR/config.json the run's settings (model, input name, loss, optimizer and its
hyperparameters, batch, steps), from which check_training.py builds parc-compile's flags.
"""

import argparse
import json
import os
import warnings

import numpy as np
import torch

import make_model

# Tokens in the shifted task's cycle: few enough that the tiny models learn it in ten steps
# (GPT-2 with AdamW at lr 0.01: loss 5.5 -> 2.8), many enough to touch many embedding rows.
CYCLE = 16


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
    parser.add_argument("--layers", type=int, default=None,
                        help="transformer layers (default: make_model's)")
    parser.add_argument("--task", choices=("shifted", "random"), default="shifted")
    parser.add_argument("--save-weights", default=None,
                        help="comma-separated step counts after which to write the weights "
                             "(default: 1 and --steps)")
    args = parser.parse_args()
    save_after = ({1, args.steps} if args.save_weights is None
                  else {int(k) for k in args.save_weights.split(",")})
    os.makedirs(args.out, exist_ok=True)
    warnings.filterwarnings("ignore")  # the exporter's deprecation and tracer notes

    if args.layers is not None:
        make_model.NUM_LAYERS = args.layers
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
    cycle = torch.randperm(make_model.VOCAB_SIZE, generator=generator)[:CYCLE]
    offset = torch.randn(make_model.HIDDEN_SIZE, generator=generator)
    for _ in range(args.steps):
        if args.task == "shifted" and spec.takes_token_ids:
            starts = torch.randint(0, CYCLE, (args.batch, 1), generator=generator)
            rows = cycle[(starts + torch.arange(seq + 1)) % CYCLE]
            inputs = {spec.input_name: rows[:, :seq].contiguous()}
        else:
            inputs = make_model.make_inputs(
                spec, args.batch, seq, seed=int(torch.randint(0, 2**31, (1,), generator=generator)))
        batches.append(inputs[spec.input_name])
        with torch.no_grad():
            shape = module(**inputs).shape
        if args.task == "shifted" and spec.takes_token_ids:
            labels.append(rows[:, 1:] % shape[-1])
        elif args.task == "shifted" and not spec.takes_images:
            labels.append(offset + 0.5 * inputs[spec.input_name].flip(-1))
        elif spec.takes_token_ids:
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
    parameters = dict(module.named_parameters())  # a tied weight once, by its first name

    def save(folder, tensors):
        os.makedirs(os.path.join(args.out, folder), exist_ok=True)
        for name, tensor in tensors.items():
            np.save(os.path.join(args.out, folder, name.replace("/", "_") + ".npy"),
                    tensor.detach().numpy())

    save("initial", parameters)
    losses, grad_norms = [], []
    for step, (batch, label) in enumerate(zip(batches, labels)):
        optimizer.zero_grad()
        output = module(**{spec.input_name: batch})
        if spec.takes_token_ids:
            loss = torch.nn.functional.cross_entropy(output.reshape(-1, output.shape[-1]),
                                                     label.reshape(-1))
        else:
            loss = torch.nn.functional.mse_loss(output, label)
        loss.backward()
        grads = {name: p.grad for name, p in parameters.items() if p.grad is not None}
        if step == 0:
            save("gradients", grads)
        grad_norms.append(float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values()))))
        optimizer.step()
        losses.append(loss.item())
        if step + 1 in save_after:
            save("weights-%d" % (step + 1), parameters)
    with open(os.path.join(args.out, "losses.txt"), "w") as file:
        file.write("".join("%.9g\n" % loss for loss in losses))
    with open(os.path.join(args.out, "grad_norms.txt"), "w") as file:
        file.write("".join("%.9g\n" % norm for norm in grad_norms))
    config = {"model": args.name, "input": spec.input_name,
              "loss": "cross_entropy" if spec.takes_token_ids else "mse",
              "optimizer": args.optimizer, "lr": args.lr, "momentum": args.momentum,
              "weight_decay": args.weight_decay, "beta1": args.beta1, "beta2": args.beta2,
              "eps": args.eps, "batch": args.batch, "steps": args.steps, "task": args.task,
              "weights_saved_after": sorted(save_after)}
    with open(os.path.join(args.out, "config.json"), "w") as file:
        json.dump(config, file, indent=1)


if __name__ == "__main__":
    main()
