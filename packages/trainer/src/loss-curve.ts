/**
 * Renders training and validation loss against step as a standalone SVG (no dependencies), for
 * a quick look at a run: `open runs/shakespeare/loss.svg`.
 *
 * @example
 * ```ts
 * const svg = lossCurveSvg([[0, 4.2, 4.2], [250, 2.1, 2.2], [500, 1.9, null]]);
 * ```
 */
export function lossCurveSvg(
  history: readonly (readonly [number, number, number | null])[],
  title = 'loss',
): string {
  const width = 640;
  const height = 360;
  const margin = { left: 56, right: 16, top: 28, bottom: 40 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const values = history
    .flatMap(([, train, validation]) => (validation === null ? [train] : [train, validation]))
    .filter(Number.isFinite);
  const maxStep = Math.max(1, ...history.map(([step]) => step));
  const low = values.length ? Math.min(...values) : 0;
  const high = values.length ? Math.max(...values) : 1;
  const span = high - low || 1;
  const x = (step: number) => margin.left + (plotWidth * step) / maxStep;
  const y = (loss: number) => margin.top + plotHeight * (1 - (loss - low) / span);
  const path = (points: [number, number][]) =>
    points.map(([s, l], i) => `${i ? 'L' : 'M'}${x(s).toFixed(1)},${y(l).toFixed(1)}`).join(' ');
  const train = path(history.filter(([, l]) => Number.isFinite(l)).map(([s, l]) => [s, l]));
  const validation = path(
    history
      .filter(([, , v]) => v !== null && Number.isFinite(v))
      .map(([s, , v]) => [s, v as number]),
  );
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => low + f * span);
  const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    ...ticks.map(
      (t) =>
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="${margin.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t.toFixed(2)}</text>`,
    ),
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle">step (last ${maxStep})</text>`,
    `<path d="${train}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`,
    validation ? `<path d="${validation}" fill="none" stroke="#d62728" stroke-width="2"/>` : '',
    `<text x="${width - margin.right - 120}" y="${margin.top + 12}" fill="#1f77b4">train</text>`,
    validation
      ? `<text x="${width - margin.right - 60}" y="${margin.top + 12}" fill="#d62728">validation</text>`
      : '',
    '</svg>',
    '',
  ].join('\n');
}
