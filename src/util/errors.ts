/**
 * One error type for everything a user can get wrong (bad file, missing column, bad config value).
 * The CLI prints `contrastive: <message>` on one line and exits with code 2, no stack trace.
 * Messages name the file and the field, and list valid values where there is a closed set.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** `where` is a file path (or config path like `configs/tiny.json`); `field` a column or key. */
export function userError(where: string, field: string | undefined, message: string): UserError {
  return new UserError(field ? `${where}: ${field}: ${message}` : `${where}: ${message}`);
}
