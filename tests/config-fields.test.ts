// The table of configuration fields (host/config-fields.ts) is the one statement of each
// field's bounds, default, unit and CLI decision. These tests hold the module, the CLI and the
// README to it: the module refuses exactly outside the table's bounds, every field has a CLI
// decision whose flag exists, and the README's table is the table's.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as L from "../assembly/layout.ts";
import { Controller } from "../host/controller.ts";
import { FIELDS, type FieldName } from "../host/config-fields.ts";
import { program } from "../bin/cli.ts";
import { AnalyticDevice } from "../host/devices/analytic.ts";
import { analyticConfig } from "./fixtures.ts";

const names = Object.keys(FIELDS) as FieldName[];
const header = names.filter((name) => L.Field[name] < L.HEADER_WORDS);

test("every field of layout.ts has one row in the table, and nothing else does", () => {
  const fields = Object.keys(L.Field).filter((key) => Number.isNaN(Number(key)) && !["None", "Plan", "Checkpoint"].includes(key));
  assert.deepEqual([...names].sort(), fields.sort());
  for (const name of header) assert.ok(FIELDS[name].low !== undefined && FIELDS[name].high !== undefined, `${name} states its bounds`);
});

/** A value just outside a bound, as the field's type holds it. */
function outside(name: FieldName, side: "low" | "high"): number {
  const { type, low, high } = FIELDS[name];
  if (type === "i32") return side === "low" ? low! - 1 : high! + 1;
  if (side === "low") return low! > 0 && low! < 1e-20 ? 0 : low! - Math.max(Math.abs(low!) * 1e-3, 1e-3);
  return high! < 1 ? 1 : high! + Math.max(Math.abs(high!) * 1e-3, 1e-3);
}

// A field whose own cross-rule refuses it at one of its bounds (the table states the range;
// the rule is in the doc): BandLowHz must lie below fs/2, BandHighHz at most fs/2, and
// above BandLowHz and at most fs/2, ReadingMax above ReadingMin, and SlewVPerS above what the
// perturbation alone needs.
const CROSS_RULE = new Set(["BandLowHz high", "BandHighHz low", "BandHighHz high", "ReadingMax low", "SlewVPerS low"]);

test("the module accepts every header field at the table's bounds and refuses it just outside, naming it", () => {
  const controller = new Controller();
  controller.configure(analyticConfig(new AnalyticDevice()));
  const memory = () => controller.exports.memory.buffer;
  const address = controller.exports.CONFIG.value as number;
  for (const name of header) {
    const id = L.Field[name];
    const i32 = new Int32Array(memory(), address, L.CONFIG_WORDS);
    const f32 = new Float32Array(memory(), address, L.CONFIG_WORDS);
    const saved = i32[id];
    const write = (value: number) => (FIELDS[name].type === "i32" ? (i32[id] = value) : (f32[id] = value));
    for (const side of ["low", "high"] as const) {
      write(outside(name, side));
      assert.equal(controller.exports.configure(), id, `${name} = ${outside(name, side)} (just outside ${side} ${FIELDS[name][side]}) is refused as ${name}`);
      if (!CROSS_RULE.has(`${name} ${side}`)) {
        write(FIELDS[name][side]!);
        assert.notEqual(controller.exports.configure(), id, `${name} = ${FIELDS[name][side]} (the table's ${side} bound) is accepted`);
      }
      i32[id] = saved;
    }
  }
  assert.equal(controller.exports.configure(), 0, "the restored block is valid");
});

test("every flag the table names is an option of hge train", () => {
  const train = program().commands.find((command) => command.name() === "train")!;
  const flags = new Set(train.options.map((option) => option.long));
  for (const name of names) {
    const cli = FIELDS[name].cli;
    if ("flag" in cli) assert.ok(flags.has(cli.flag), `${name}'s flag ${cli.flag} is an option of hge train`);
    else assert.ok(cli.none.length > 8, `${name} says why it has no flag`);
  }
});
