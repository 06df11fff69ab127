/**
 * The one error class of @llmkit/trainer. `code` is stable (`invalid_config`, `non_finite_loss`,
 * `bad_data`, `no_checkpoint`, `bad_checkpoint`); the message names the value and the expectation.
 *
 * @example
 * ```ts
 * try { await trainer.train(); } catch (e) { if (e instanceof TrainerError && e.code === 'non_finite_loss') console.log(e.message); }
 * ```
 */
export class TrainerError extends Error {
  /** A stable identifier of the failure. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'TrainerError';
    this.code = code;
  }
}
