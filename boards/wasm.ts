// A small WebAssembly binary reader for the board checker: sections, imports, exports,
// memories, globals (constant initialisers), function types, and a full instruction decode
// of the code section that names the post-MVP features the module uses. No dependencies, so
// `hge board check` works without wabt installed.

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

export interface FuncType { params: ValType[]; results: ValType[] }
export interface Export { name: string; kind: "func" | "table" | "memory" | "global" | "tag"; index: number }
export interface Global { type: ValType; mutable: boolean; init?: number | bigint; imported: boolean }
export interface Memory { min: number; max?: number; shared: boolean; memory64: boolean }

export type Feature =
  | "sign-extension" | "nontrapping-f2i" | "bulk-memory" | "reference-types" | "simd"
  | "threads" | "exceptions" | "tail-call" | "multi-value" | "mutable-globals" | "memory64";

export interface WasmModule {
  bytes: number;
  types: FuncType[];
  imports: { module: string; name: string; kind: string }[];
  funcTypes: number[]; // type index per function (imports first)
  memories: Memory[];
  tables: number;
  globals: Global[];
  exports: Export[];
  dataBytes: number; // total bytes in data segments
  dataEnd: number; // highest address written by an active data segment with a constant offset
  codeBytes: number;
  features: Set<Feature>;
  /** How many instructions of each class appear in the code (static counts). */
  ops: { total: number; i64: number; f32: number; f64: number; simd: number; callIndirect: number;
    /** Loads and stores, and those whose alignment hint (memarg) is below the access's size. */
    memoryAccesses: number; underaligned: number };
  sections: Record<string, number>;
  /** Per function (imports first, with none), the functions its `call`s name. */
  callees: number[][];
}

const VAL: Record<number, ValType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };
const SECTION_NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount", "tag"];
const EXPORT_KINDS = ["func", "table", "memory", "global", "tag"] as const;

class Reader {
  pos: number;
  constructor(public b: Uint8Array, pos = 0, public end = b.length) { this.pos = pos; }
  u8(): number { if (this.pos >= this.end) throw new Error(`wasm: unexpected end at ${this.pos}`); return this.b[this.pos++]; }
  u32(): number {
    let result = 0, shift = 0, byte;
    do { byte = this.u8(); result |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80 && shift < 35);
    return result >>> 0;
  }
  sleb(): bigint {
    let result = 0n, shift = 0n, byte;
    do { byte = this.u8(); result |= BigInt(byte & 0x7f) << shift; shift += 7n; } while (byte & 0x80);
    if (byte & 0x40) result -= 1n << shift;
    return result;
  }
  bytes(n: number): Uint8Array { const s = this.b.subarray(this.pos, this.pos + n); this.pos += n; return s; }
  name(): string { return new TextDecoder().decode(this.bytes(this.u32())); }
  valtype(): ValType { const t = this.u8(); const v = VAL[t]; if (!v) throw new Error(`wasm: unknown value type 0x${t.toString(16)}`); return v; }
  limits(): { min: number; max?: number; flags: number } {
    const flags = this.u8();
    const min = this.u32();
    const max = flags & 1 ? this.u32() : undefined;
    return { flags, min, max };
  }
}

/** Evaluates a constant expression (i32/i64/f32/f64.const, global.get of an import -> undefined). */
function constExpr(r: Reader, globals: Global[]): number | bigint | undefined {
  let value: number | bigint | undefined;
  for (;;) {
    const op = r.u8();
    if (op === 0x0b) return value;
    if (op === 0x41) value = Number(BigInt.asIntN(32, r.sleb()));
    else if (op === 0x42) value = BigInt.asIntN(64, r.sleb());
    else if (op === 0x43) { value = new DataView(r.b.buffer, r.b.byteOffset + r.pos, 4).getFloat32(0, true); r.pos += 4; }
    else if (op === 0x44) { value = new DataView(r.b.buffer, r.b.byteOffset + r.pos, 8).getFloat64(0, true); r.pos += 8; }
    else if (op === 0x23) { value = globals[r.u32()]?.init; }
    else if (op === 0xd0) { r.u8(); value = undefined; }
    else if (op === 0xd2) { r.u32(); value = undefined; }
    else if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) value = undefined; // extended-const
    else throw new Error(`wasm: unsupported constant expression opcode 0x${op.toString(16)}`);
  }
}

export function parseWasm(input: Uint8Array): WasmModule {
  const b = input;
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) throw new Error("wasm: not a WebAssembly binary");
  if (b[4] !== 1) throw new Error(`wasm: unsupported version ${b[4]}`);
  const m: WasmModule = {
    bytes: b.length, types: [], imports: [], funcTypes: [], memories: [], tables: 0, globals: [], exports: [],
    dataBytes: 0, dataEnd: 0, codeBytes: 0, features: new Set(),
    ops: { total: 0, i64: 0, f32: 0, f64: 0, simd: 0, callIndirect: 0, memoryAccesses: 0, underaligned: 0 }, sections: {},
    callees: [],
  };
  const r = new Reader(b, 8);
  while (r.pos < b.length) {
    const id = r.u8();
    const size = r.u32();
    const start = r.pos, end = start + size;
    const s = new Reader(b, start, end);
    const sname = SECTION_NAMES[id] ?? `unknown${id}`;
    m.sections[sname] = (m.sections[sname] ?? 0) + size;
    switch (id) {
      case 1: for (let n = s.u32(); n > 0; n--) {
        if (s.u8() !== 0x60) throw new Error("wasm: bad function type");
        const params: ValType[] = []; for (let k = s.u32(); k > 0; k--) params.push(s.valtype());
        const results: ValType[] = []; for (let k = s.u32(); k > 0; k--) results.push(s.valtype());
        if (results.length > 1) m.features.add("multi-value");
        m.types.push({ params, results });
      } break;
      case 2: for (let n = s.u32(); n > 0; n--) {
        const module = s.name(), name = s.name(), kind = s.u8();
        m.imports.push({ module, name, kind: EXPORT_KINDS[kind] ?? String(kind) });
        if (kind === 0) m.funcTypes.push(s.u32());
        else if (kind === 1) { s.valtype(); s.limits(); m.tables++; }
        else if (kind === 2) { const l = s.limits(); m.memories.push({ min: l.min, max: l.max, shared: !!(l.flags & 2), memory64: !!(l.flags & 4) }); }
        else if (kind === 3) { const type = s.valtype(); const mutable = s.u8() === 1; m.globals.push({ type, mutable, imported: true }); }
        else if (kind === 4) { s.u8(); s.u32(); m.features.add("exceptions"); }
      } break;
      case 3: for (let n = s.u32(); n > 0; n--) m.funcTypes.push(s.u32()); break;
      case 4: for (let n = s.u32(); n > 0; n--) { s.valtype(); s.limits(); m.tables++; } break;
      case 5: for (let n = s.u32(); n > 0; n--) {
        const l = s.limits();
        if (l.flags & 2) m.features.add("threads");
        if (l.flags & 4) m.features.add("memory64");
        m.memories.push({ min: l.min, max: l.max, shared: !!(l.flags & 2), memory64: !!(l.flags & 4) });
      } break;
      case 6: for (let n = s.u32(); n > 0; n--) {
        const type = s.valtype(); const mutable = s.u8() === 1;
        const init = constExpr(s, m.globals);
        m.globals.push({ type, mutable, init, imported: false });
      } break;
      case 7: for (let n = s.u32(); n > 0; n--) {
        const name = s.name(); const kind = EXPORT_KINDS[s.u8()]; const index = s.u32();
        m.exports.push({ name, kind, index });
      } break;
      case 10: m.codeBytes = size; scanCode(s, m); break;
      case 11: for (let n = s.u32(); n > 0; n--) {
        const flags = s.u32();
        let offset: number | bigint | undefined;
        if (flags === 0) offset = constExpr(s, m.globals);
        else if (flags === 2) { s.u32(); offset = constExpr(s, m.globals); }
        const len = s.u32(); s.pos += len;
        m.dataBytes += len;
        if (typeof offset === "number") m.dataEnd = Math.max(m.dataEnd, (offset >>> 0) + len);
        if (flags === 1) m.features.add("bulk-memory"); // passive segment
      } break;
      case 13: for (let n = s.u32(); n > 0; n--) { s.u8(); s.u32(); } m.features.add("exceptions"); break;
      default: break;
    }
    r.pos = end;
  }
  for (const e of m.exports) if (e.kind === "global" && m.globals[e.index]?.mutable) m.features.add("mutable-globals");
  return m;
}

// Immediates of the MVP single-byte opcodes.
const enum Imm { None, BlockType, Index, Index2, BrTable, MemArg, Byte, I32, I64, F32, F64, SelectT, CallIndirect }
const IMM = new Uint8Array(256).fill(255);
function set(ops: number[], imm: Imm) { for (const o of ops) IMM[o] = imm; }
set([0x00, 0x01, 0x05, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1], Imm.None);
for (let o = 0x45; o <= 0xc4; o++) IMM[o] = Imm.None;
set([0x02, 0x03, 0x04, 0x06], Imm.BlockType);
set([0x0c, 0x0d, 0x10, 0x12, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x08, 0x09, 0x18, 0x19, 0xd2, 0x07], Imm.Index);
set([0x11, 0x13], Imm.CallIndirect);
IMM[0x0e] = Imm.BrTable;
for (let o = 0x28; o <= 0x3e; o++) IMM[o] = Imm.MemArg;
set([0x3f, 0x40, 0xd0], Imm.Byte);
IMM[0x41] = Imm.I32; IMM[0x42] = Imm.I64; IMM[0x43] = Imm.F32; IMM[0x44] = Imm.F64;
IMM[0x1c] = Imm.SelectT;

/** log2 of the access size of the loads and stores 0x28..0x3e (their natural alignment). */
const NATURAL_ALIGNMENT = [2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 2, 3, 2, 3, 0, 1, 0, 1, 2];

function isI64(op: number) { return op === 0x42 || (op >= 0x50 && op <= 0x5a) || (op >= 0x79 && op <= 0x8a) || op === 0xa7 || (op >= 0xac && op <= 0xb1) || op === 0xc2 || op === 0xc3 || op === 0xc4 || op === 0x29 || (op >= 0x30 && op <= 0x35) || op === 0x37 || (op >= 0x3c && op <= 0x3e); }
function isF32(op: number) { return op === 0x43 || op === 0x2a || op === 0x38 || (op >= 0x5b && op <= 0x60) || (op >= 0x8b && op <= 0x98) || (op >= 0xb2 && op <= 0xb6) || op === 0xbe || op === 0xa8 || op === 0xa9 || op === 0xae || op === 0xaf || op === 0xbc; }
function isF64(op: number) { return op === 0x44 || op === 0x2b || op === 0x39 || (op >= 0x61 && op <= 0x66) || (op >= 0x99 && op <= 0xa6) || (op >= 0xb7 && op <= 0xbb) || op === 0xbf || op === 0xaa || op === 0xab || op === 0xbd || op === 0xb0 || op === 0xb1; }

function scanCode(s: Reader, m: WasmModule) {
  const imported = m.imports.filter((i) => i.kind === "func").length;
  m.callees = Array.from({ length: imported }, () => []);
  for (let n = s.u32(); n > 0; n--) {
    const size = s.u32();
    const end = s.pos + size;
    for (let k = s.u32(); k > 0; k--) { s.u32(); s.valtype(); }
    const f = new Reader(s.b, s.pos, end);
    const callees: number[] = [];
    m.callees.push(callees);
    while (f.pos < end) decode(f, m, callees);
    s.pos = end;
  }
}

/** The most calls a chain of them can nest (a function the host calls is 1), or undefined
 *  when the module may recurse: a cycle of calls, a call_indirect or a tail call, or an
 *  imported function (which may call back in). */
export function maxCallDepth(m: WasmModule): number | undefined {
  if (m.ops.callIndirect > 0 || m.features.has("tail-call") || m.imports.some((i) => i.kind === "func")) return undefined;
  const depth = new Array<number>(m.callees.length).fill(0); // 0 not yet known, -1 on the path being followed
  const visit = (f: number): number => {
    if (depth[f] === -1) return Infinity; // a cycle
    if (depth[f] === 0) {
      depth[f] = -1;
      depth[f] = 1 + Math.max(0, ...m.callees[f].map(visit));
    }
    return depth[f];
  };
  const deepest = Math.max(0, ...m.callees.map((_, f) => visit(f)));
  return Number.isFinite(deepest) ? deepest : undefined;
}

function decode(f: Reader, m: WasmModule, callees: number[]) {
  const op = f.u8();
  m.ops.total++;
  if (op >= 0xc0 && op <= 0xc4) m.features.add("sign-extension");
  if (isI64(op)) m.ops.i64++;
  if (isF32(op)) m.ops.f32++;
  if (isF64(op)) m.ops.f64++;
  if (op === 0x11) m.ops.callIndirect++;
  if (op === 0x12 || op === 0x13) m.features.add("tail-call");
  if (op >= 0x06 && op <= 0x09 || op === 0x18 || op === 0x19) m.features.add("exceptions");
  if (op === 0x1c || op === 0x25 || op === 0x26 || op >= 0xd0 && op <= 0xd2) m.features.add("reference-types");
  if (op === 0xfc) return decodeFC(f, m);
  if (op === 0xfd) return decodeSIMD(f, m);
  if (op === 0xfe) return decodeAtomic(f, m);
  switch (IMM[op]) {
    case Imm.None: return;
    case Imm.BlockType: {
      const t = f.b[f.pos];
      if (t === 0x40 || VAL[t]) f.pos++;
      else { f.sleb(); m.features.add("multi-value"); }
      return;
    }
    case Imm.Index: { const index = f.u32(); if (op === 0x10) callees.push(index); return; }
    case Imm.CallIndirect: f.u32(); if (f.u32() !== 0) m.features.add("reference-types"); return;
    case Imm.BrTable: for (let k = f.u32(); k >= 0; k--) f.u32(); return;
    case Imm.MemArg: {
      const align = f.u32();
      f.u32();
      m.ops.memoryAccesses++;
      if (align < NATURAL_ALIGNMENT[op - 0x28]) m.ops.underaligned++;
      return;
    }
    case Imm.Byte: f.u8(); return;
    case Imm.I32: case Imm.I64: f.sleb(); return;
    case Imm.F32: f.pos += 4; return;
    case Imm.F64: f.pos += 8; return;
    case Imm.SelectT: for (let k = f.u32(); k > 0; k--) f.valtype(); return;
    default: throw new Error(`wasm: unknown opcode 0x${op.toString(16)} at ${f.pos - 1}`);
  }
}

function decodeFC(f: Reader, m: WasmModule) {
  const sub = f.u32();
  if (sub <= 7) { m.features.add("nontrapping-f2i"); return; }
  m.features.add(sub <= 14 ? "bulk-memory" : "reference-types");
  switch (sub) {
    case 8: f.u32(); f.u8(); return; // memory.init data mem
    case 9: f.u32(); return; // data.drop
    case 10: f.u8(); f.u8(); return; // memory.copy
    case 11: f.u8(); return; // memory.fill
    case 12: f.u32(); f.u32(); return; // table.init
    case 13: f.u32(); return; // elem.drop
    case 14: f.u32(); f.u32(); return; // table.copy
    case 15: case 16: case 17: f.u32(); return; // table.grow/size/fill
    default: throw new Error(`wasm: unknown 0xfc opcode ${sub}`);
  }
}

function decodeSIMD(f: Reader, m: WasmModule) {
  m.features.add("simd");
  m.ops.simd++;
  const sub = f.u32();
  if (sub <= 11 || sub === 92 || sub === 93) { f.u32(); f.u32(); return; } // memarg
  if (sub >= 84 && sub <= 91) { f.u32(); f.u32(); f.u8(); return; } // memarg + lane
  if (sub === 12 || sub === 13) { f.pos += 16; return; } // v128.const, i8x16.shuffle
  if (sub >= 21 && sub <= 34) { f.u8(); return; } // extract/replace lane
}

function decodeAtomic(f: Reader, m: WasmModule) {
  m.features.add("threads");
  const sub = f.u32();
  if (sub === 3) { f.u8(); return; } // atomic.fence
  f.u32(); f.u32();
}

/** Exported globals' values (addresses in linear memory, or constants). */
export function exportedGlobals(m: WasmModule): Record<string, number | bigint | undefined> {
  const out: Record<string, number | bigint | undefined> = {};
  for (const e of m.exports) if (e.kind === "global") out[e.name] = m.globals[e.index]?.init;
  return out;
}

/** Exported functions with their signatures. */
export function exportedFunctions(m: WasmModule): { name: string; type: FuncType }[] {
  return m.exports.filter((e) => e.kind === "func").map((e) => ({ name: e.name, type: m.types[m.funcTypes[e.index]] }));
}
