// The README documents the configuration and status blocks; assembly/layout.ts is the
// source of truth. These tests keep the two from drifting apart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as L from "../assembly/layout.ts";
import { headerTableMarkdown } from "../host/config-fields.ts";
import { ARRAY_FIRST_WORD } from "../host/controller.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

function tableRows(marker: string): Array<[number, string]> {
  const body = readme.split(`<!-- ${marker}:BEGIN -->`)[1]?.split(`<!-- ${marker}:END -->`)[0] ?? "";
  return body
    .split("\n")
    .map((line) => line.split("|").map((cell) => cell.trim()))
    .filter((cells) => /^\d+$/.test(cells[1] ?? ""))
    .map((cells) => [Number(cells[1]), cells[2]]);
}

test("the README's configuration table is the table of fields (npx tsx scripts/readme-tables.ts writes it)", () => {
  const documented = readme.split("<!-- CONFIG-TABLE:BEGIN -->")[1]?.split("<!-- CONFIG-TABLE:END -->")[0].trim();
  assert.equal(documented, headerTableMarkdown());
});

test("the README's status table lists every status word of layout.ts", () => {
  const documented = tableRows("STATUS-TABLE");
  const words = Object.entries(L.Status).filter(([, id]) => typeof id === "number").map(([name, id]) => [id, name]);
  assert.deepEqual(documented, words);
});

test("the README's array table matches layout.ts (ids and first words)", () => {
  const firstWord = Object.fromEntries(Object.entries(ARRAY_FIRST_WORD).map(([name, word]) => [name, L[word]]));
  const body = readme.split("<!-- ARRAY-TABLE:BEGIN -->")[1].split("<!-- ARRAY-TABLE:END -->")[0];
  const rows = body.split("\n").map((line) => line.split("|").map((cell) => cell.trim())).filter((cells) => /^\d+$/.test(cells[1] ?? ""));
  assert.deepEqual(rows.map((cells) => [Number(cells[1]), cells[2], Number(cells[3])]), Object.entries(firstWord).map(([name, word]) => [(L.Field as unknown as Record<string, number>)[name], name, word]));
  assert.equal(L.CONFIG_WORDS, L.TARGET_WORD + L.MAX_CASES);
});
