/** Errors of the `ignis` command: printed as one line, exit code 2 (usage) or 1 (anything else). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
