// The worker pool (host/pool.ts): results in the jobs' order on one thread or several, and a job's
// file-system error reaches the command as one (bin/cli.ts says it on one line, exit 2) from a
// worker thread too, where it once arrived as "internal error" with a stack trace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runPool } from "../host/pool.ts";
import { isFileSystemError } from "../host/report/keep.ts";
import { scratchDir } from "./fixtures.ts";

const scratch = scratchDir("hge-pool-");
const runner = join(scratch, "runner.mjs");
writeFileSync(runner, `import { readFileSync } from "node:fs";
export function runJob(job) { return job.read ? readFileSync(job.read, "utf8") : job.value * 2; }
`);
const url = pathToFileURL(runner);

for (const workers of [1, 2]) {
  test(`on ${workers} thread${workers > 1 ? "s" : ""}: results in the jobs' order; a job's file-system error arrives as one, naming its path`, async () => {
    assert.deepEqual(await runPool(url, [1, 2, 3, 4, 5].map((value) => ({ value })), { workers }), [2, 4, 6, 8, 10]);
    const missing = join(scratch, "missing.txt");
    await assert.rejects(runPool(url, [{ value: 1 }, { read: missing }], { workers }), (error: unknown) => {
      assert.ok(isFileSystemError(error), String(error));
      assert.deepEqual([error.code, error.syscall, error.path], ["ENOENT", "open", missing]);
      assert.match(error.message, /^ENOENT: no such file or directory, open/);
      return true;
    });
  });
}
