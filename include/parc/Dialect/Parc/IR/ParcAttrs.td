//===- ParcAttrs.td - parc dialect attributes --------------*- tablegen -*-===//
//
// Attributes that describe how tensors are laid out over the device mesh. The vocabulary
// follows the upstream `shard` dialect and OpenXLA Shardy (replicated, split along a dim,
// partial sums), reduced to what one mesh axis needs.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_PARCATTRS_TD
#define PARC_DIALECT_PARC_IR_PARCATTRS_TD

include "parc/Dialect/Parc/IR/ParcBase.td"
include "mlir/IR/AttrTypeBase.td"

def Parc_ShardingAttr : AttrDef<Parc_Dialect, "Sharding"> {
  let mnemonic = "sharding";
  let summary = "How a tensor is laid out over the ranks of one mesh axis";
  let description = [{
    - `replicated`: every rank holds the whole tensor.
    - `split(d)`: dim `d` is cut into as many equal blocks as the axis has ranks; rank r
      holds block r.
    - `split(d, groups = g)`: dim `d` is first viewed as `g` equal groups (a packed QKV
      projection has 3), and each group is cut over the ranks; rank r holds block r of every
      group, in group order. A slice that takes whole groups stays local.
    - `partial`: every rank holds a tensor of the full shape, and the true value is the sum
      over the ranks (the result of a matmul whose contracted dim is split).

    ```mlir
    #parc.sharding<split(1, groups = 3)>
    ```
  }];
  let parameters = (ins "::mlir::parc::ShardingKind":$kind, "int64_t":$dim,
                        "int64_t":$groups);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    static ShardingAttr getReplicated(::mlir::MLIRContext *context);
    static ShardingAttr getPartial(::mlir::MLIRContext *context);
    static ShardingAttr getSplit(::mlir::MLIRContext *context, int64_t dim,
                                 int64_t groups = 1);
    bool isReplicated() const { return getKind() == ShardingKind::Replicated; }
    bool isSplit() const { return getKind() == ShardingKind::Split; }
    bool isPartial() const { return getKind() == ShardingKind::Partial; }
    /// The shape one of `ranks` ranks holds of a tensor of `shape`.
    ::llvm::SmallVector<int64_t> getLocalShape(::llvm::ArrayRef<int64_t> shape,
                                               int64_t ranks) const;
  }];
}

#endif // PARC_DIALECT_PARC_IR_PARCATTRS_TD
