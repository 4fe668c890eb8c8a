// The errors a user's mistake raises, by the exit code the command gives them: a UsageError
// (exit 2: a flag, a name or a combination the command does not take) and a TrainConfigError
// (exit 3: a configuration the host or the controller refuses; `option` names it). Each
// message is one line naming the problem and the valid choices.

/** Exit codes: 0 trained and solved, 1 trained but not solved, 2 usage, 3 configuration refused,
 *  4 internal error (a bug: please report it), 130 interrupted (Ctrl-C, SIGTERM, SIGHUP). */
export const EXIT = { solved: 0, unsolved: 1, usage: 2, refused: 3, internal: 4, interrupted: 130 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export class TrainConfigError extends Error {
  constructor(readonly option: string, message: string) {
    super(message);
    this.name = "TrainConfigError";
  }
}
