//===- parc-run.cpp - run a parc artifact ---------------------------------===//
//
// parc-run MODEL.parc --input NAME=FILE.npy ... --output-dir DIR [--nproc N]
// Runs every rank of the artifact and writes DIR/<output name>.npy for each graph output.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Launcher.h"

int main(int argc, char **argv) { return parc::rt::runParcRun(argc, argv); }
