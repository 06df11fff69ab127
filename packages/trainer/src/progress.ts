/** One line of progress: what the trainer reports after each logged step. */
export interface ProgressEvent {
  /** Optimizer steps completed. */
  step: number;
  /** Total steps of the run. */
  maxSteps: number;
  /** Training loss of this step (mean over accumulated micro-batches). */
  loss: number;
  /** Learning rate used for this step. */
  learningRate: number;
  /** Tokens processed per second, measured over this step. */
  tokensPerSecond: number;
  /** Milliseconds this step took. */
  milliseconds: number;
  /** Validation loss, on steps that evaluated. */
  validationLoss?: number;
}

/** Receives progress; {@link createProgressReporter} picks a terminal bar or JSON lines. */
export interface ProgressReporter {
  /** Called after each step (and with `validationLoss` after each evaluation). */
  update(event: ProgressEvent): void;
  /** Called once at the end. */
  finish(): void;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/**
 * A progress bar on a terminal (`step 120/2000 [####----] loss 2.41 | 9.1k tok/s | ETA 02:13`),
 * otherwise one JSON object per line (for logs and CI).
 *
 * @example
 * ```ts
 * const reporter = createProgressReporter({ json: !process.stdout.isTTY });
 * ```
 */
export function createProgressReporter(
  options: {
    json?: boolean;
    stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  } = {},
): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const json = options.json ?? !stream.isTTY;
  const started = performance.now();
  let lastLine = '';
  return {
    update(event) {
      if (json) {
        stream.write(
          `${JSON.stringify({ event: event.validationLoss === undefined ? 'step' : 'eval', ...event })}\n`,
        );
        return;
      }
      const elapsed = (performance.now() - started) / 1000;
      const eta = (elapsed / Math.max(1, event.step)) * (event.maxSteps - event.step);
      const width = 24;
      const filled = Math.round((width * event.step) / event.maxSteps);
      const rate =
        event.tokensPerSecond >= 1000
          ? `${(event.tokensPerSecond / 1000).toFixed(1)}k`
          : event.tokensPerSecond.toFixed(0);
      const validation =
        event.validationLoss === undefined ? '' : ` | val ${event.validationLoss.toFixed(4)}`;
      lastLine = `step ${event.step}/${event.maxSteps} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] loss ${event.loss.toFixed(4)}${validation} | ${rate} tok/s | ETA ${formatDuration(eta)}`;
      stream.write(`\r${lastLine.slice(0, (stream.columns ?? 120) - 1)}\u001b[K`);
      if (event.validationLoss !== undefined) stream.write('\n');
    },
    finish() {
      if (!json && lastLine) stream.write('\n');
    },
  };
}
