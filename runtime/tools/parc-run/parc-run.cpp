//===- parc-run.cpp - run a parc artifact ---------------------------------===//
//
// parc-run MODEL.parc --input NAME=FILE.npy ... [--output-dir DIR] [--nproc N]
// Runs every rank of the artifact and writes DIR/<output name>.npy for each graph output
// (a training run, --steps N, prints its losses and needs no DIR).
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Launcher.h"

int main(int argc, char **argv) { return parc::rt::runParcRun(argc, argv); }
