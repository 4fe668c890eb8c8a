// Folds constant addresses into the offsets of loads and stores: `load(i + BUFFER)` becomes
// `load offset=BUFFER (i)`, the encoding AssemblyScript's own `load<T>(ptr, immOffset)` gives.
// The module's buffers are static (memory.data), so nearly every access is a constant base plus
// an index; the offset form drops an i32.const and an i32.add from each, about 3 bytes (the
// build prints how many it folded). binaryen's own pass (optimize-added-constants)
// folds only constants below 1 KiB, and only with --low-memory-unused: the two forms differ when
// i + BUFFER overflows 32 bits, where the add wraps around to low memory and the offset traps.
// Here every index is a count or an offset under the module's limits (assembly/layout.ts), far
// from 2^32 - BUFFER, so the two read and write the same bytes; tests/core.test.ts and the
// boards' replay parity compare the builds bit for bit.
import binaryen from "binaryen";

/** The child expressions of each kind of expression the module's code uses; any other kind
 *  stops the build (a kind not walked would hide accesses from the fold). */
const CHILDREN = new Map([
  [binaryen.BlockId, (e) => e.children],
  [binaryen.IfId, (e) => [e.condition, e.ifTrue, e.ifFalse]],
  [binaryen.LoopId, (e) => [e.body]],
  [binaryen.BreakId, (e) => [e.condition, e.value]],
  [binaryen.SwitchId, (e) => [e.condition, e.value]],
  [binaryen.CallId, (e) => e.operands],
  [binaryen.LocalSetId, (e) => [e.value]],
  [binaryen.GlobalSetId, (e) => [e.value]],
  [binaryen.LoadId, (e) => [e.ptr]],
  [binaryen.StoreId, (e) => [e.ptr, e.value]],
  [binaryen.UnaryId, (e) => [e.value]],
  [binaryen.BinaryId, (e) => [e.left, e.right]],
  [binaryen.SelectId, (e) => [e.ifTrue, e.ifFalse, e.condition]],
  [binaryen.DropId, (e) => [e.value]],
  [binaryen.ReturnId, (e) => [e.value]],
  [binaryen.MemoryCopyId, (e) => [e.dest, e.source, e.size]],
  [binaryen.MemoryFillId, (e) => [e.dest, e.value, e.size]],
  [binaryen.LocalGetId, () => []],
  [binaryen.GlobalGetId, () => []],
  [binaryen.ConstId, () => []],
  [binaryen.NopId, () => []],
  [binaryen.UnreachableId, () => []],
  [binaryen.MemorySizeId, () => []],
]);

/** The module's bytes with every `load/store(x + constant)` given the constant as its offset;
 *  returns the bytes and how many accesses were folded. */
export function foldOffsets(bytes) {
  const module = binaryen.readBinary(bytes);
  module.setFeatures(binaryen.Features.All);
  let folded = 0;
  const visit = (expression) => {
    if (!expression) return;
    const info = binaryen.getExpressionInfo(expression);
    const children = CHILDREN.get(info.id);
    if (!children) throw new Error(`scripts/fold-offsets.mjs: no walk for expression id ${info.id}`);
    if (info.id === binaryen.LoadId || info.id === binaryen.StoreId) {
      const access = info.id === binaryen.LoadId ? binaryen.Load : binaryen.Store;
      const sum = binaryen.getExpressionInfo(info.ptr);
      if (sum.id === binaryen.BinaryId && sum.op === binaryen.AddInt32) {
        const [base, index] = [[sum.right, sum.left], [sum.left, sum.right]]
          .find(([c]) => binaryen.getExpressionId(c) === binaryen.ConstId) ?? [];
        const value = base && binaryen.getExpressionInfo(base).value;
        if (base && value >= 0) { // (i32 constants come back signed)
          access.setPtr(expression, index);
          access.setOffset(expression, info.offset + value);
          folded++;
        }
      }
    }
    for (const child of children(binaryen.getExpressionInfo(expression))) visit(child);
  };
  for (let i = 0; i < module.getNumFunctions(); i++) {
    visit(binaryen.getFunctionInfo(module.getFunctionByIndex(i)).body);
  }
  if (!module.validate()) throw new Error("scripts/fold-offsets.mjs: the folded module does not validate");
  const debugInfo = binaryen.getDebugInfo();
  binaryen.setDebugInfo(true); // keep the name section (wasm-opt -g reads it; -Oz drops it)
  const out = module.emitBinary();
  binaryen.setDebugInfo(debugInfo);
  module.dispose();
  return { bytes: out, folded };
}
