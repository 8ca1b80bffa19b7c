"""The GPT-2-style model the benchmarks time, and the command-line options that size it.

transformers' GPT-2 architecture with random weights (seed 0) and dropout off, wrapped so
that it takes token ids alone and returns the logits.
"""

import os


def add_model_args(parser):
    """The options that size the model and the run: --layers, --hidden, --heads, --vocab,
    --batch, --seq, --threads."""
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--vocab", type=int, default=50257)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())


def gpt2_logits_model(args):
    """A torch.nn.Module mapping input_ids to logits, sized by `args`."""
    import torch
    import transformers

    config = transformers.GPT2Config(
        vocab_size=args.vocab, n_positions=max(1024, args.seq), n_embd=args.hidden,
        n_layer=args.layers, n_head=args.heads, use_cache=False, attn_implementation="eager",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config)

    class Logits(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids):
            return self.inner(input_ids=input_ids, use_cache=False, return_dict=False)[0]

    return Logits(model)


def export_training_run(args, steps, work):
    """Builds the model in training mode (dropout off) with `steps` random batches of token
    ids and labels (seed 1), exports it for training (parameters distinct, tied weights
    tied) to WORK/gpt2.onnx and saves the batches as WORK/ids.npy and WORK/labels.npy.
    Returns (model, ids, labels, onnx_path)."""
    import numpy as np
    import torch
    from make_model import _without_packed_sequence_detection

    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, args.vocab, (steps * args.batch, args.seq), generator=generator)
    labels = torch.randint(0, args.vocab, (steps * args.batch, args.seq), generator=generator)
    model = gpt2_logits_model(args).train()
    onnx_path = os.path.join(work, "gpt2.onnx")
    with _without_packed_sequence_detection():
        torch.onnx.export(model, (ids[:args.batch],), onnx_path, input_names=["input_ids"],
                          output_names=["logits"], opset_version=17, dynamo=False,
                          training=torch.onnx.TrainingMode.TRAINING,
                          do_constant_folding=False)
    np.save(os.path.join(work, "ids.npy"), ids.numpy())
    np.save(os.path.join(work, "labels.npy"), labels.numpy())
    return model, ids, labels, onnx_path
