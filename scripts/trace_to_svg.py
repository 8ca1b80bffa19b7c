#!/usr/bin/env python3
"""Draws the pipeline steps of a parc-run --trace file as an SVG timeline.

    python trace_to_svg.py TRACE.json OUT.svg [--title TEXT]

One row per rank (top: rank 0); each step span ("F<m> c<c>") is a box coloured by its
microbatch and labelled with it; the time axis is in milliseconds from the first step.
The picture in docs/pipeline.md is made this way; the trace itself opens in Perfetto
(ui.perfetto.dev) for the instruction-level view.
"""

import argparse
import json

COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("out")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    with open(args.trace) as file:
        events = json.load(file)["traceEvents"]
    names = {e["pid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "process_name"}
    steps = [e for e in events if e.get("ph") == "X" and e.get("cat") == "step"]
    start = min(e["ts"] for e in steps)
    end = max(e["ts"] + e["dur"] for e in steps)
    ranks = sorted(names)
    left, top, row, width = 170, 40, 34, 900
    scale = width / (end - start)
    height = top + row * len(ranks) + 40
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (left + width + 20, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14">%s</text>' % args.title]
    for index, rank in enumerate(ranks):
        y = top + index * row
        out.append('<text x="10" y="%d">%s</text>' % (y + row * 0.6, names[rank]))
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/>'
                   % (left, y + row - 2, left + width, y + row - 2))
        for step in (e for e in steps if e["pid"] == rank):
            x = left + (step["ts"] - start) * scale
            w = max(1.0, step["dur"] * scale)
            microbatch = step["args"].get("microbatch", 0)
            colour = COLOURS[microbatch % len(COLOURS)]
            out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" '
                       'stroke="white"><title>%s</title></rect>'
                       % (x, y + 4, w, row - 10, colour, step["name"]))
            if w > 22:
                out.append('<text x="%.1f" y="%d" fill="white">%s</text>'
                           % (x + 3, y + row * 0.6, step["name"].split()[0]))
    total = (end - start) / 1e3
    for tick in range(6):
        x = left + width * tick / 5
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%.1f ms</text>'
                   % (x, height - 12, total * tick / 5))
    out.append("</svg>")
    with open(args.out, "w") as file:
        file.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
