"""Checks a parc-run --trace file of a pipelined run and prints its shape.

    python check_trace.py TRACE.json --pp P --tp T --microbatches M [--chunks V]
                          [--training [--one-f-one-b]]

The file must be a Chrome trace event file (what Perfetto and chrome://tracing open): a
"traceEvents" list whose complete events ("X") have ts and dur, async transfers begun
("b") and ended ("e") in pairs, and one named process per rank. Every rank must show one
step span "F<m> c<c>" per microbatch and chunk it runs. The pipeline's data dependencies
must show: every microbatch's step starts on stage s after it started on stage s - 1, so
the pipeline fills and drains stage by stage (checked for --chunks 1). Prints, per rank,
its steps in order with their start and end in milliseconds from the start of the run, and
how many stages were busy at once at most; exits 1 on a violation.

--training: a training step also has one backward span "B<m> c<c>" per microbatch and
chunk, and every microbatch's backward starts on stage s after it started on stage s + 1
(the gradients flow back). Prints, per stage, the most microbatches whose forward ran and
whose backward had not yet; --one-f-one-b fails when that exceeds 1F1B's bound, pp - s on
stage s (GPipe holds all M).
"""

import argparse
import collections
import json
import sys


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--pp", type=int, required=True)
    parser.add_argument("--tp", type=int, default=1)
    parser.add_argument("--microbatches", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=1)
    parser.add_argument("--training", action="store_true")
    parser.add_argument("--one-f-one-b", action="store_true")
    args = parser.parse_args()
    with open(args.trace) as file:
        trace = json.load(file)
    events = trace.get("traceEvents")
    if not isinstance(events, list) or not events:
        fail("no traceEvents list")
    ranks = args.pp * args.tp
    names = {e["pid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "process_name"}
    if sorted(names) != list(range(ranks)):
        fail("process names for ranks %s, expected 0..%d" % (sorted(names), ranks - 1))
    steps = collections.defaultdict(list)
    open_transfers = collections.Counter()
    for event in events:
        phase = event.get("ph")
        if phase == "X":
            if event["dur"] < 0 or "ts" not in event:
                fail("bad complete event %s" % event)
            if event.get("cat") == "step":
                steps[event["pid"]].append(event)
        elif phase in ("b", "e"):
            open_transfers[(event["pid"], event["id"])] += 1 if phase == "b" else -1
    if any(open_transfers.values()):
        fail("transfers begun and not ended: %s"
             % [k for k, v in open_transfers.items() if v])
    start = min(e["ts"] for rank in steps.values() for e in rank)
    expected = args.microbatches * args.chunks * (2 if args.training else 1)
    stage_steps = {}
    for rank in range(ranks):
        mine = sorted(steps[rank], key=lambda e: e["ts"])
        if len(mine) != expected:
            fail("rank %d has %d steps, expected %d" % (rank, len(mine), expected))
        stage = rank // args.tp % args.pp
        stage_steps.setdefault(stage, mine)
        print("rank %d (%s): %s" % (rank, names[rank], " ".join(
            "%s[%.2f-%.2f]" % (e["name"], (e["ts"] - start) / 1e3,
                                (e["ts"] + e["dur"] - start) / 1e3) for e in mine)))
    end = lambda e: e["ts"] + e["dur"]
    # A stage can only start a microbatch's forward once the previous stage has computed
    # it: every microbatch passes the stages in order, so the pipeline fills stage by stage
    # and drains in the same order.
    def passes(stage, kind):
        return sorted((e for e in stage_steps[stage] if e["name"][0] == kind),
                      key=lambda e: e["args"]["microbatch"])
    for stage in range(1, args.pp):
        for first, second in zip(passes(stage - 1, "F"), passes(stage, "F")):
            if second["ts"] <= first["ts"]:
                fail("%s on stage %d started before %s on stage %d"
                     % (second["name"], stage, first["name"], stage - 1))
        for first, second in zip(passes(stage, "B"), passes(stage - 1, "B")):
            if second["ts"] <= first["ts"]:
                fail("%s on stage %d started before %s on stage %d"
                     % (second["name"], stage - 1, first["name"], stage))
    if args.training:
        for stage in range(args.pp):
            in_flight = most_in_flight = 0
            for event in stage_steps[stage]:
                in_flight += 1 if event["name"][0] == "F" else -1
                most_in_flight = max(most_in_flight, in_flight)
            bound = (args.pp - stage) * args.chunks
            print("stage %d: at most %d microbatches in flight" % (stage, most_in_flight))
            if args.one_f_one_b and args.chunks == 1 and most_in_flight > bound:
                fail("stage %d holds %d microbatches, above 1F1B's %d"
                     % (stage, most_in_flight, bound))
    # The most stages inside a step at the same moment.
    moments = sorted([(e["ts"], 1) for s in stage_steps.values() for e in s]
                     + [(end(e), -1) for s in stage_steps.values() for e in s],
                     key=lambda m: (m[0], m[1]))
    busy = most = 0
    for _, change in moments:
        busy += change
        most = max(most, busy)
    print("fill and drain: ok; at most %d of %d stages busy at once" % (most, args.pp))


if __name__ == "__main__":
    main()
