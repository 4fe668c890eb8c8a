// The README documents the configuration and status blocks (assembly/layout.ts is the source of
// truth) and the command lines to type (bin/cli.ts is): these tests keep them from drifting apart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as L from "../assembly/layout.ts";
import { headerTableMarkdown } from "../host/config-fields.ts";
import { ARRAY_FIRST_WORD } from "../host/controller.ts";
import { program } from "../bin/cli.ts";

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

test("every hge command line the READMEs show names a command, subcommand and flags that exist", () => {
  const root = program();
  const boards = readFileSync(new URL("../boards/README.md", import.meta.url), "utf8");
  const lines = [readme, boards].flatMap((text) => text.split("\n").filter((line) => line.startsWith("npx hge ")));
  assert.ok(lines.length > 40);
  for (const line of lines) {
    const words = line.split("#")[0].trim().split(/\s+/).slice(2);
    let command = root;
    for (let sub = command.commands.find((c) => c.name() === words[0]); sub; sub = command.commands.find((c) => c.name() === words[0])) {
      command = sub;
      words.shift();
    }
    assert.notEqual(command, root, line);
    for (const flag of words.filter((word) => word.startsWith("--"))) {
      assert.ok(command.options.some((option) => option.long === flag) || flag === "--help", `${line}: ${flag} is not a flag of hge ${command.name()}`);
    }
  }
});
