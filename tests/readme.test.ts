// The README documents the configuration and status blocks; assembly/layout.ts is the
// source of truth. These tests keep the two from drifting apart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as L from "../assembly/layout.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

function tableRows(marker: string): Array<[number, string]> {
  const body = readme.split(`<!-- ${marker}:BEGIN -->`)[1]?.split(`<!-- ${marker}:END -->`)[0] ?? "";
  return body
    .split("\n")
    .map((line) => line.split("|").map((cell) => cell.trim()))
    .filter((cells) => /^\d+$/.test(cells[1] ?? ""))
    .map((cells) => [Number(cells[1]), cells[2]]);
}

test("the README's configuration table lists every header field of layout.ts with its id", () => {
  const documented = tableRows("CONFIG-TABLE");
  const header = Object.entries(L.Field).filter(([name, id]) => typeof id === "number" && id > 0 && id < L.HEADER_WORDS && name !== "None");
  assert.deepEqual(documented, header.map(([name, id]) => [id, name]).sort((a, b) => (a[0] as number) - (b[0] as number)));
});

test("the README's status table lists every status word of layout.ts", () => {
  const documented = tableRows("STATUS-TABLE");
  const words = Object.entries(L.Status).filter(([, id]) => typeof id === "number").map(([name, id]) => [id, name]);
  assert.deepEqual(documented, words);
});

test("the README's array table matches layout.ts (ids and first words)", () => {
  const firstWord: Record<string, number> = { ToneBin: L.TONE_BIN_WORD, AmplitudeV: L.AMPLITUDE_WORD, MinV: L.MIN_WORD, MaxV: L.MAX_WORD, InitialV: L.INITIAL_WORD, Trainable: L.TRAINABLE_WORD, InputMinV: L.INPUT_MIN_WORD, InputMaxV: L.INPUT_MAX_WORD, CaseInputV: L.CASE_INPUT_WORD, Target: L.TARGET_WORD };
  const body = readme.split("<!-- ARRAY-TABLE:BEGIN -->")[1].split("<!-- ARRAY-TABLE:END -->")[0];
  const rows = body.split("\n").map((line) => line.split("|").map((cell) => cell.trim())).filter((cells) => /^\d+$/.test(cells[1] ?? ""));
  assert.deepEqual(rows.map((cells) => [Number(cells[1]), cells[2], Number(cells[3])]), Object.entries(firstWord).map(([name, word]) => [(L.Field as unknown as Record<string, number>)[name], name, word]));
  assert.equal(L.CONFIG_WORDS, L.TARGET_WORD + L.MAX_CASES);
});
