// The configuration block's layout in C, generated from assembly/layout.ts (the one place the
// module and the host read it from), so firmware never copies an offset by hand. Values come
// from importing the file; names, types (the i32/f32/u64 at the head of each member's comment)
// and comments from its text. A layout change that this reader cannot map stops the build.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIELDS, boundsText, type FieldName } from "../host/config-fields.ts";
import * as L from "../assembly/layout.ts";
import type { Layout } from "../host/controller.ts";
import { BOARDS_DIR } from "./boards.ts";

export const LAYOUT_SOURCE = join(BOARDS_DIR, "..", "assembly", "layout.ts");

type EnumObject = Record<string, string | number>;
interface Member { name: string; value: number; comment: string; type?: "i32" | "f32" | "u64" }

/** SampleRateHz -> SAMPLE_RATE_HZ; AmplitudeV -> AMPLITUDE_V. */
export const upperSnake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2").toUpperCase();
const lowerSnake = (name: string) => upperSnake(name).toLowerCase();

/** The members of `export enum name` with their values (from the module) and comments (text). */
function enumMembers(source: string, name: string, values: EnumObject): Member[] {
  const start = source.indexOf(`export enum ${name} {`);
  if (start < 0) throw new Error(`${LAYOUT_SOURCE}: no "export enum ${name}"`);
  const body = source.slice(start, source.indexOf("}", start)); // enums hold no braces
  const lines = body.split("\n");
  const members: Member[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (typeof value !== "number") continue;
    const at = lines.findIndex((l) => new RegExp(`\\b${key} = ${value}\\b`).test(l));
    if (at < 0) throw new Error(`${LAYOUT_SOURCE}: enum ${name}: member ${key} not found in the text`);
    // a comment goes on in the lines below whose text is indented under it (a section's comment,
    // "// per-control arrays", is not)
    const more = [];
    for (let next = at + 1; next < lines.length; next++) {
      const continued = /^\s*\/\/ {8,}(\S.*)$/.exec(lines[next]);
      if (!continued) break;
      more.push(continued[1].trim());
    }
    const comment = [/\/\/\s*(.*)$/.exec(lines[at])?.[1].trim() ?? "", ...more].join(" ");
    const type = /^(i32|f32|u64)\b/.exec(comment)?.[1] as Member["type"];
    members.push({ name: key, value, comment: type ? comment.slice(3).trim() : comment, type });
  }
  return members.sort((a, b) => a.value - b.value);
}

/** A configuration field's comment in hge.h: its unit, valid values and meaning, from the one
 *  table of fields (host/config-fields.ts). */
function fieldComment(name: string): string {
  const spec = FIELDS[name as FieldName];
  if (!spec) throw new Error(`host/config-fields.ts has no row for Field.${name}`);
  const unit = spec.unit === "reading" ? "reading unit" : spec.unit;
  return [boundsText(name as FieldName) || unit, spec.doc].filter(Boolean).join("; ");
}

/** The field's type in layout.ts's comment, which must be the table's. */
function checkedType(member: Member): "i32" | "f32" {
  const spec = FIELDS[member.name as FieldName];
  if (member.type !== spec?.type) throw new Error(`${LAYOUT_SOURCE}: Field.${member.name} is ${member.type} there and ${spec?.type} in host/config-fields.ts`);
  return spec.type;
}

/** The doc comment above `export const NAME`, if any. */
function docComment(source: string, declaration: string): string {
  const at = source.indexOf(declaration);
  const before = source.slice(0, at).trimEnd();
  if (at < 0 || !before.endsWith("*/")) return "";
  const open = before.lastIndexOf("/**");
  return before.slice(open + 3, -2).replace(/\s*\n\s*\*?\s*/g, " ").trim();
}

/** `export const NEXT = NAME + expression;`: the words the array at NAME spans. */
function spanAfter(source: string, wordName: string): string | undefined {
  const m = new RegExp(`^export const \\w+ = ${wordName} \\+ ([^;]+);`, "m").exec(source);
  return m?.[1].trim().replace(/\b([A-Z][A-Z0-9_]*)\b/g, "HGE_$1");
}

const C_KEYWORDS = new Set(["case", "default", "switch", "for", "while", "do", "if", "else", "int", "float", "char", "long", "short", "signed", "unsigned", "void", "return", "static", "const", "register", "struct", "union", "enum", "goto", "break", "continue", "sizeof", "typedef", "volatile", "extern", "auto", "inline", "restrict"]);
const fieldName = (name: string) => (C_KEYWORDS.has(lowerSnake(name)) ? `${lowerSnake(name)}_` : lowerSnake(name));

const cComment = (s: string) => (s ? ` /* ${s.replace(/\*\//g, "* /")} */` : "");
const C_TYPE = { i32: "int32_t", f32: "float", u64: "uint32_t" } as const;

/**
 * C declarations of the layout: limits, the configuration block as a struct (field offsets
 * checked by static asserts against the word constants), the enums of its fields, the
 * events step() returns, and the status block. `layout`: the values of `source` (assembly/layout.ts,
 * or a wider build's copy: host/variant.ts).
 */
export function generateLayoutHeader(source = readFileSync(LAYOUT_SOURCE, "utf8"), layout: Layout = L): string {
  const out: string[] = [
    "/* ---- layout of the configuration and status blocks (generated from assembly/layout.ts) ----",
    " * The configuration block is HGE_CONFIG_WORDS 32-bit little-endian words at HGE_CONFIG in the",
    " * module's memory. Write it (hge_config()), call hge_configure(): 0, or the id of the first",
    " * invalid field (enum hge_field); HGE_STATUS_ERROR_INDEX then names the element of an array",
    " * field. A refused block leaves the previous configuration running. */",
    "#include <stddef.h>",
    "",
  ];
  // 1. plain numeric constants, in file order
  const constNames = [...source.matchAll(/^export const (\w+)\s*=/gm)].map((m) => m[1]);
  const consts = layout as unknown as Record<string, unknown>;
  for (const name of constNames) {
    const value = consts[name];
    if (typeof value !== "number") continue;
    out.push(`#define HGE_${name} ${value}${cComment(docComment(source, `export const ${name} `))}`);
  }
  out.push("");
  // 2. the enums: every `export enum` of the file
  const enumNames = [...source.matchAll(/^export enum (\w+)\s*\{/gm)].map((m) => m[1]);
  const enums = new Map<string, Member[]>();
  for (const name of enumNames) {
    const values = consts[name] as EnumObject | undefined;
    if (!values) throw new Error(`${LAYOUT_SOURCE}: enum ${name} is not exported`);
    enums.set(name, enumMembers(source, name, values));
  }
  for (const [name, members] of enums) {
    const prefix = `HGE_${upperSnake(name)}_`;
    const doc = docComment(source, `export enum ${name} `);
    out.push(`/*${doc ? ` ${doc}` : ` ${name}`} */`, `enum hge_${lowerSnake(name)} {`);
    for (const m of members) out.push(`  ${prefix}${upperSnake(m.name)} = ${m.value},${cComment([m.type, m.comment].filter(Boolean).join(" "))}`);
    out.push("};", "");
  }
  // the fields' names, for a firmware's log line when a configuration is refused
  const fieldMembers = enums.get("Field") ?? [];
  out.push("/* A field's name as assembly/layout.ts spells it (\"\" for another value). */", "static inline const char *hge_field_name(int field) {", "  switch (field) {");
  for (const m of fieldMembers) if (m.value > 0) out.push(`    case HGE_FIELD_${upperSnake(m.name)}: return "${m.name}";`);
  out.push("    default: return \"\";", "  }", "}", "");

  // 3. the configuration block as a struct
  const fields = enums.get("Field");
  if (!fields) throw new Error(`${LAYOUT_SOURCE}: no enum Field`);
  const header = fields.filter((f) => f.value > 0 && f.value < layout.HEADER_WORDS);
  const arrays = fields.filter((f) => f.value >= layout.HEADER_WORDS).map((f) => {
    const wordName = `${upperSnake(f.name.replace(/V$/, ""))}_WORD`;
    return { ...f, word: consts[wordName] as number | undefined, wordName };
  }).filter((a) => a.word !== undefined) as (Member & { word: number; wordName: string })[];
  arrays.sort((a, b) => a.word - b.word);
  const struct: string[] = ["typedef struct hge_config_block {", "  int32_t unused; /* word 0: no field (0 means accepted) */"];
  let word = 1;
  for (const f of header) {
    if (f.value !== word) throw new Error(`${LAYOUT_SOURCE}: Field.${f.name} is word ${f.value}, expected ${word} (header fields must be contiguous)`);
    if (!f.type || f.type === "u64") throw new Error(`${LAYOUT_SOURCE}: Field.${f.name}: its comment must start with i32 or f32`);
    struct.push(`  ${C_TYPE[checkedType(f)]} ${fieldName(f.name)};${cComment(fieldComment(f.name))}`);
    word++;
  }
  for (; word < layout.HEADER_WORDS; word++) struct.push(`  int32_t reserved${word};`);
  const asserts: string[] = [];
  arrays.forEach((a, i) => {
    if (!a.type || a.type === "u64") throw new Error(`${LAYOUT_SOURCE}: Field.${a.name}: its comment must start with i32 or f32`);
    if (a.word !== word) throw new Error(`${LAYOUT_SOURCE}: ${a.wordName} is ${a.word}, expected ${word} (arrays must follow each other)`);
    const end = i + 1 < arrays.length ? arrays[i + 1].word : layout.CONFIG_WORDS;
    const span = spanAfter(source, a.wordName) ?? String(end - a.word);
    struct.push(`  ${C_TYPE[checkedType(a)]} ${fieldName(a.name)}[${span}];${cComment(fieldComment(a.name))}`);
    asserts.push(`_Static_assert(offsetof(hge_config_t, ${fieldName(a.name)}) == HGE_${a.wordName} * 4, "hge_config_t.${fieldName(a.name)}");`);
    word = end;
  });
  if (word !== layout.CONFIG_WORDS) throw new Error(`${LAYOUT_SOURCE}: the arrays end at word ${word}, CONFIG_WORDS is ${layout.CONFIG_WORDS}`);
  struct.push("} hge_config_t;");
  out.push(...struct,
    `_Static_assert(sizeof(hge_config_t) == HGE_CONFIG_WORDS * 4, "hge_config_t size");`,
    `_Static_assert(offsetof(hge_config_t, ${fieldName(header.at(-1)!.name)}) == ${header.at(-1)!.value} * 4, "hge_config_t header");`,
    ...asserts, "");

  // 4. the status block as a struct
  const status = enums.get("Status");
  if (!status) throw new Error(`${LAYOUT_SOURCE}: no enum Status`);
  const sstruct = ["typedef struct hge_status_block {"];
  word = 0;
  for (const s of status) {
    if (s.value !== word) throw new Error(`${LAYOUT_SOURCE}: Status.${s.name} is word ${s.value}, expected ${word}`);
    if (!s.type) throw new Error(`${LAYOUT_SOURCE}: Status.${s.name}: its comment must start with i32, f32 or u64`);
    const words = s.type === "u64" ? 2 : 1;
    sstruct.push(`  ${C_TYPE[s.type]} ${fieldName(s.name)}${words === 2 ? "[2]" : ""};${cComment((s.type === "u64" ? "u64 " : "") + s.comment)}`);
    word += words;
  }
  if (word !== layout.STATUS_WORDS) throw new Error(`${LAYOUT_SOURCE}: the status fields end at word ${word}, STATUS_WORDS is ${layout.STATUS_WORDS}`);
  sstruct.push("} hge_status_t;");
  out.push(...sstruct, `_Static_assert(sizeof(hge_status_t) == HGE_STATUS_WORDS * 4, "hge_status_t size");`, "");
  return out.join("\n");
}
