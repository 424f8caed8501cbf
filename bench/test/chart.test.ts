import { describe, expect, it } from 'vitest';
import { renderChart } from '../src/chart-svg.js';

describe('benchmark chart (SVG)', () => {
  const svg = renderChart(
    'Title <&>',
    ['caption'],
    [
      {
        type: 'bars',
        title: 'Refresh',
        unit: 'requests/s',
        bars: [
          { label: 'ours', value: 600, kind: 'gatehouse' },
          { label: 'Keycloak', value: 150, kind: 'other' },
        ],
        reference: 'Keycloak',
        format: (value) => value.toFixed(0),
      },
    ],
  );

  it('draws bars proportional to the values, with values and ratios to the reference', () => {
    const widths = [...svg.matchAll(/<rect x="\d+" y="[\d.]+" width="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(widths).toHaveLength(2);
    expect((widths[0] ?? 0) / (widths[1] ?? 1)).toBeCloseTo(4, 5);
    expect(svg).toContain('>600 (4.00x)<');
    expect(svg).toContain('>150<');
  });

  it('escapes text', () => {
    expect(svg).toContain('<title>Title &lt;&amp;&gt;</title>');
    expect(svg).not.toContain('Title <&>');
  });
});
