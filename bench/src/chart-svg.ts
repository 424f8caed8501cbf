/**
 * A small SVG writer for the benchmark summary: panels of horizontal bars (one bar per case, the
 * value and its ratio to the panel's reference printed next to it) and a line panel (resident
 * memory over a soak). No dependencies; the output is plain, diffable SVG.
 */

export type BarKind = 'gatehouse' | 'other' | 'baseline';

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly kind: BarKind;
}

export interface BarPanel {
  readonly type: 'bars';
  readonly title: string;
  /** e.g. "requests/s, higher is better". */
  readonly unit: string;
  readonly bars: readonly Bar[];
  /** The bar ratios are computed against (its label); none prints no ratios. */
  readonly reference?: string | undefined;
  /** How values print, e.g. `(v) => v.toFixed(0)`. */
  readonly format: (value: number) => string;
}

export interface Line {
  readonly label: string;
  readonly kind: BarKind;
  /** [x, y] points. */
  readonly points: readonly (readonly [number, number])[];
}

export interface LinePanel {
  readonly type: 'lines';
  readonly title: string;
  readonly xUnit: string;
  readonly yUnit: string;
  readonly lines: readonly Line[];
}

export type Panel = BarPanel | LinePanel;

const WIDTH = 960;
const LABEL_WIDTH = 430;
const BAR_AREA = 330;
const ROW = 22;
const COLORS: Record<BarKind, string> = {
  gatehouse: '#2563eb',
  other: '#ea580c',
  baseline: '#9ca3af',
};

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function barPanel(panel: BarPanel, top: number): { svg: string[]; height: number } {
  const max = Math.max(...panel.bars.map((bar) => bar.value).filter(Number.isFinite), 0);
  const reference = panel.bars.find((bar) => bar.label === panel.reference)?.value;
  const svg = [
    `<text x="10" y="${top + 18}" class="title">${xml(panel.title)}</text>`,
    `<text x="10" y="${top + 34}" class="unit">${xml(panel.unit)}</text>`,
  ];
  panel.bars.forEach((bar, i) => {
    const y = top + 44 + i * ROW;
    const width = max > 0 && Number.isFinite(bar.value) ? (bar.value / max) * BAR_AREA : 0;
    const ratio =
      reference && Number.isFinite(bar.value) && bar.label !== panel.reference
        ? ` (${(bar.value / reference).toFixed(bar.value / reference >= 10 ? 0 : 2)}x)`
        : '';
    svg.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 15}" class="label" text-anchor="end">${xml(bar.label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${width.toFixed(1)}" height="${ROW - 6}" fill="${COLORS[bar.kind]}"/>`,
      `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + 15}" class="value">${xml(Number.isFinite(bar.value) ? panel.format(bar.value) : 'n/a')}${xml(ratio)}</text>`,
    );
  });
  return { svg, height: 54 + panel.bars.length * ROW };
}

function linePanel(panel: LinePanel, top: number): { svg: string[]; height: number } {
  const plotTop = top + 44;
  const plotHeight = 140;
  const left = 70;
  const right = WIDTH - 280;
  const points = panel.lines.flatMap((line) => line.points);
  const xMax = Math.max(...points.map(([x]) => x), 1);
  const yMax = Math.max(...points.map(([, y]) => y), 1) * 1.1;
  const sx = (x: number) => left + (x / xMax) * (right - left);
  const sy = (y: number) => plotTop + plotHeight - (y / yMax) * plotHeight;
  const svg = [
    `<text x="10" y="${top + 18}" class="title">${xml(panel.title)}</text>`,
    `<text x="10" y="${top + 34}" class="unit">${xml(`${panel.yUnit} over ${panel.xUnit}`)}</text>`,
    `<line x1="${left}" y1="${plotTop + plotHeight}" x2="${right}" y2="${plotTop + plotHeight}" class="axis"/>`,
    `<line x1="${left}" y1="${plotTop}" x2="${left}" y2="${plotTop + plotHeight}" class="axis"/>`,
  ];
  for (const fraction of [0, 0.5, 1]) {
    const y = (yMax / 1.1) * fraction;
    svg.push(
      `<text x="${left - 6}" y="${(sy(y) + 4).toFixed(1)}" class="tick" text-anchor="end">${y.toFixed(0)}</text>`,
    );
    const x = xMax * fraction;
    svg.push(
      `<text x="${sx(x).toFixed(1)}" y="${plotTop + plotHeight + 14}" class="tick" text-anchor="middle">${x.toFixed(0)}</text>`,
    );
  }
  panel.lines.forEach((line, i) => {
    const dash = i % 2 === 1 ? ' stroke-dasharray="6 3"' : '';
    svg.push(
      `<polyline fill="none" stroke="${COLORS[line.kind]}" stroke-width="2"${dash} points="${line.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      `<line x1="${right + 12}" y1="${plotTop + 10 + i * 18}" x2="${right + 36}" y2="${plotTop + 10 + i * 18}" stroke="${COLORS[line.kind]}" stroke-width="2"${dash}/>`,
      `<text x="${right + 42}" y="${plotTop + 14 + i * 18}" class="label">${xml(line.label)}</text>`,
    );
  });
  return { svg, height: 44 + plotHeight + 28 };
}

/** The whole chart: panels stacked top to bottom under a title and caption lines. */
export function renderChart(
  title: string,
  caption: readonly string[],
  panels: readonly Panel[],
): string {
  const body: string[] = [];
  let top = 44 + caption.length * 15;
  for (const panel of panels) {
    const { svg, height } = panel.type === 'bars' ? barPanel(panel, top) : linePanel(panel, top);
    body.push(...svg);
    top += height + 16;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${top}" viewBox="0 0 ${WIDTH} ${top}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    `<title>${xml(title)}</title>`,
    '<style>.title{font-size:15px;font-weight:600}.unit{font-size:12px;fill:#4b5563}.label{font-size:12px}.value{font-size:12px;fill:#111827}.tick{font-size:11px;fill:#6b7280}.axis{stroke:#9ca3af}.caption{font-size:11px;fill:#4b5563}</style>',
    `<rect width="${WIDTH}" height="${top}" fill="#ffffff"/>`,
    `<text x="10" y="24" class="title" style="font-size:18px">${xml(title)}</text>`,
    ...caption.map(
      (line, i) => `<text x="10" y="${42 + i * 15}" class="caption">${xml(line)}</text>`,
    ),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
