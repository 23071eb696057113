import type { Measurement } from './harness.js';

/** Which family a candidate belongs to, for its bar's colour: `other` is another library or hand-written metrics. */
export type Family = 'bare' | 'clientpool' | 'other';

const COLOURS: Readonly<Record<Family, string>> = { bare: '#8a8a8a', clientpool: '#2f6db5', other: '#d9822b' };
const LEGEND: Readonly<Record<Family, string>> = { bare: 'bare call', clientpool: 'clientpool', other: 'other libraries or hand-written metrics' };

const ROW = 26;
const LABEL_WIDTH = 360;
const BAR_WIDTH = 420;
const VALUE_WIDTH = 150;
const TOP = 84;

/**
 * A horizontal bar chart of ns per call, one bar per candidate in table order, the bytes allocated per
 * call written after each bar. Plain SVG 1.1, no dependency; the scale is linear and starts at zero.
 */
export function barChart(rows: readonly Measurement[], familyOf: (name: string) => Family, subtitle: string): string {
  const max = Math.max(...rows.map((r) => r.nsPerCall));
  const width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH;
  const height = TOP + rows.length * ROW + 40;
  const ticks = niceTicks(max);
  const x = (ns: number): number => LABEL_WIDTH + (ns / ticks.at(-1)!) * BAR_WIDTH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="16" font-weight="600">Time per call, ns (lower is better)</text>`,
    `<text x="12" y="42" fill="#555">${escape(subtitle)}</text>`,
  ];
  for (const tick of ticks) {
    const tx = x(tick).toFixed(1);
    out.push(`<line x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${TOP + rows.length * ROW}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${tx}" y="${TOP + rows.length * ROW + 16}" text-anchor="middle" fill="#777" font-size="11">${tick}</text>`);
  }
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    const family = familyOf(row.name);
    const bytes = row.bytesPerCall === undefined ? '' : ` · ${row.bytesPerCall.toFixed(0)} B`;
    out.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 16}" text-anchor="end">${escape(row.name)}</text>`);
    out.push(`<rect x="${LABEL_WIDTH}" y="${y + 4}" width="${Math.max(1, x(row.nsPerCall) - LABEL_WIDTH).toFixed(1)}" height="${ROW - 8}" fill="${COLOURS[family]}"/>`);
    out.push(`<text x="${(x(row.nsPerCall) + 6).toFixed(1)}" y="${y + 16}" fill="#333">${row.nsPerCall.toFixed(0)} ns${bytes}</text>`);
  });
  let lx = LABEL_WIDTH;
  for (const family of Object.keys(COLOURS) as Family[]) {
    out.push(`<rect x="${lx}" y="${TOP - 30}" width="12" height="12" fill="${COLOURS[family]}"/>`);
    out.push(`<text x="${lx + 16}" y="${TOP - 20}" fill="#333">${LEGEND[family]}</text>`);
    lx += 40 + LEGEND[family].length * 7;
  }
  out.push(`<text x="${LABEL_WIDTH}" y="${height - 8}" fill="#777" font-size="11">ns per call (median round); B = heap bytes allocated per call</text>`);
  out.push('</svg>', '');
  return out.join('\n');
}

/** Round tick values from 0 past `max`: steps of 1, 2 or 5 times a power of ten, about five of them. */
export function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = 0; t < max + step; t += step) ticks.push(Math.round(t));
  return ticks;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
