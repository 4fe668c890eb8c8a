// The signals that stop a command the way Ctrl-C does, keeping what it learned: the terminal's
// (SIGINT), a scheduler's or `timeout`'s (SIGTERM, which a batch system sends before it kills)
// and a closed terminal's or dropped ssh session's (SIGHUP). A command that keeps its state on
// Ctrl-C listens for all three (bin/cli.ts, boards/cli.ts).
import { closeSync } from "node:fs";
import { isatty } from "node:tty";

const INTERRUPTS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** The descriptors that were a terminal when hge started (once it hangs up, isatty says no). */
const TERMINALS = [0, 1, 2].filter((fd) => isatty(fd));
let hungUp = false;

/** After a hang-up the terminal is gone, and Node's exit, restoring its mode, aborts (tcsetattr
 *  fails with EIO: SIGABRT, the exit code lost). Closed first, the descriptors are passed by. */
function hangUp(): void {
  if (hungUp) return;
  hungUp = true;
  process.once("exit", () => {
    for (const fd of TERMINALS) {
      try {
        closeSync(fd);
      } catch { /* closed already */ }
    }
  });
}

/** Calls `handler` on each interrupting signal (with `once`, on the first of each kind only: a
 *  second Ctrl-C then ends the process at once) until the function returned is called. */
export function onInterrupt(handler: () => void, once = false): () => void {
  const listeners = INTERRUPTS.map((signal) => [signal, signal === "SIGHUP" ? () => (hangUp(), handler()) : handler] as const);
  for (const [signal, listener] of listeners) process[once ? "once" : "on"](signal, listener);
  return () => {
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
  };
}
