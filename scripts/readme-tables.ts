// Writes the README's table of configuration header fields from the table of fields
// (host/config-fields.ts): `npx tsx scripts/readme-tables.ts`. tests/readme.test.ts fails when
// the README's copy differs.
import { readFileSync, writeFileSync } from "node:fs";
import { headerTableMarkdown } from "../host/config-fields.ts";

const path = new URL("../README.md", import.meta.url);
const readme = readFileSync(path, "utf8");
const [before, rest] = readme.split("<!-- CONFIG-TABLE:BEGIN -->");
const after = rest.split("<!-- CONFIG-TABLE:END -->")[1];
writeFileSync(path, `${before}<!-- CONFIG-TABLE:BEGIN -->\n${headerTableMarkdown()}\n<!-- CONFIG-TABLE:END -->${after}`);
