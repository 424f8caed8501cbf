/**
 * The sum of the samples of `name` in a Prometheus text exposition whose labels include all of
 * `labels` (other labels may differ); undefined when none matches.
 */
export function metricSample(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.entries(labels).every(([key, value]) =>
      (match[2] ?? '').includes(`${key}="${value}"`),
    );
    if (has) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}
