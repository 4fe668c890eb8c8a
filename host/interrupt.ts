// The signals that stop a command the way Ctrl-C does, keeping what it learned: the terminal's
// (SIGINT), a scheduler's or `timeout`'s (SIGTERM, which a batch system sends before it kills)
// and a closed terminal's or dropped ssh session's (SIGHUP). A command that keeps its state on
// Ctrl-C listens for all three (bin/cli.ts, boards/cli.ts).
const INTERRUPTS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Calls `handler` on each interrupting signal (with `once`, on the first of each kind only: a
 *  second Ctrl-C then ends the process at once) until the function returned is called. */
export function onInterrupt(handler: () => void, once = false): () => void {
  for (const signal of INTERRUPTS) process[once ? "once" : "on"](signal, handler);
  return () => {
    for (const signal of INTERRUPTS) process.removeListener(signal, handler);
  };
}
