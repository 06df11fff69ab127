/** A mistake in how the command was called (bad flag, missing file): printed without a stack. */
export class CliError extends Error {
  override name = 'CliError';
}
