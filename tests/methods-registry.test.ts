// A training method is one file in host/methods/ and its line in the registry
// (host/methods/index.ts). Every place that offers methods takes them from the registry:
// hge train --method and hge compare --methods (here), hge methods (tests/cli.test.ts), the
// bench's time-to-solve table (here). Each test fails if one of them needs a second list.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { METHODS, METHOD_NAMES } from "../host/methods/index.ts";
import { BENCH_TASKS, methodsFor } from "../host/bench/methods.ts";
import type { Method } from "../host/methods/method.ts";
import { hge } from "./fixtures.ts";

const METHODS_DIR = fileURLToPath(new URL("../host/methods/", import.meta.url));

/** The choices the refusal of an unknown method lists ("… Allowed choices are a, b, c."). */
function allowedChoices(...args: string[]): string[] {
  const { status, stderr } = hge(...args);
  assert.equal(status, 2, stderr);
  const listed = /Allowed choices are (.*)\.$/m.exec(stderr);
  assert.ok(listed, stderr);
  return listed[1].split(", ");
}

test("every Method a file in host/methods exports is registered: a method file without its registry line fails here, not silently unreachable", async () => {
  const isMethod = (value: unknown): value is Method => typeof value === "object" && value !== null && typeof (value as Method).name === "string" && typeof (value as Method).train === "function";
  const exported: Method[] = [];
  for (const file of readdirSync(METHODS_DIR).filter((name) => name.endsWith(".ts"))) {
    for (const value of Object.values(await import(new URL(file, `file://${METHODS_DIR}`).href))) {
      exported.push(...(Array.isArray(value) ? value : [value]).filter(isMethod));
    }
  }
  assert.ok(exported.length >= METHODS.length, `found ${exported.length} exported methods`);
  for (const method of exported) assert.ok(METHODS.includes(method), `host/methods exports ${method.name}, which host/methods/index.ts does not register`);
});

test("hge train --method and hge compare --methods offer exactly the registry's methods, in its order", () => {
  assert.deepEqual(allowedChoices("train", "--method", "no-such-method"), METHOD_NAMES);
  assert.deepEqual(allowedChoices("compare", "--methods", "no-such-method"), METHOD_NAMES);
});

test("every registered method reaches the bench's time-to-solve table: it can train at least one bench task on the bench's device", () => {
  const benched = new Set(BENCH_TASKS.flatMap((task) => methodsFor(task)));
  assert.deepEqual(METHOD_NAMES.filter((name) => !benched.has(name)), []);
});
