//===- SearchReport.h - the layout search explained, as text and JSON -*- C++ -*-===//
//
// What `parc-compile --devices=N --report` prints about the search (the chosen layout,
// its runners-up and the best rejected layouts with the reason), and the `--plan-json`
// file with the same content (docs/planner.md, "The plan JSON").
//
//===----------------------------------------------------------------------===//

#ifndef PARC_TARGET_REPORT_SEARCHREPORT_H
#define PARC_TARGET_REPORT_SEARCHREPORT_H

#include "parc/Analysis/ParallelSearch.h"

#include "llvm/Support/raw_ostream.h"

namespace mlir::parc {

/// The search's result as report lines.
void printSearchReport(const SearchResult &result, const MachineProfile &machine,
                       const SearchRequest &request, llvm::raw_ostream &os);

/// Writes the plan JSON to `path` atomically (a temporary file renamed into place); an
/// error names the file.
llvm::Error writePlanJson(const SearchResult &result, const MachineProfile &machine,
                          const SearchRequest &request, llvm::StringRef path);

} // namespace mlir::parc

#endif // PARC_TARGET_REPORT_SEARCHREPORT_H
