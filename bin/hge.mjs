#!/usr/bin/env node
// Entry point of the `hge` command: registers tsx so Node 20 can load the TypeScript
// sources, then runs host/cli.ts. Also the bootstrap of the demo's worker threads.
import { isMainThread } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const cli = await import("./cli.ts");
if (isMainThread) await cli.main(process.argv.slice(2));
