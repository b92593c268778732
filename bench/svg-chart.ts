/**
 * A grouped horizontal bar chart as an SVG document, for the figures a benchmark writes into docs/: one
 * group per row, one bar per series, each bar labelled with its value. Plain SVG, no script, no fonts
 * beyond the reader's sans-serif.
 */

/** One group of bars: its label and one value per series (in the order of the chart's series). */
export interface ChartGroup {
  readonly label: string;
  readonly values: readonly number[];
}

/** What a chart shows. */
export interface BarChart {
  readonly title: string;
  /** The unit of the values, shown after the title and on the scale. */
  readonly unit: string;
  /** The name and colour of each series. */
  readonly series: readonly { readonly name: string; readonly color: string }[];
  readonly groups: readonly ChartGroup[];
  /** A line under the chart: where and how it was measured. */
  readonly note: string;
}

const WIDTH = 900;
const LABEL_WIDTH = 330;
const BAR_HEIGHT = 16;
const GROUP_GAP = 14;
const TOP = 56;

/** Escapes text for an SVG text node or attribute. */
function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The chart as the text of an SVG file. */
export function barChartSvg(chart: BarChart): string {
  const max = Math.max(...chart.groups.flatMap((group) => group.values), 1);
  const plot = WIDTH - LABEL_WIDTH - 90;
  const groupHeight = chart.series.length * BAR_HEIGHT + GROUP_GAP;
  const height = TOP + chart.groups.length * groupHeight + 48;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escape(chart.title)} (${escape(chart.unit)})</text>`,
  ];
  chart.series.forEach((series, i) => {
    const x = 10 + i * 220;
    parts.push(
      `<rect x="${x}" y="32" width="12" height="12" fill="${series.color}"/>`,
      `<text x="${x + 18}" y="42">${escape(series.name)}</text>`,
    );
  });
  chart.groups.forEach((group, g) => {
    const y = TOP + g * groupHeight;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + (chart.series.length * BAR_HEIGHT) / 2 + 4}" text-anchor="end">${escape(group.label)}</text>`,
    );
    group.values.forEach((value, s) => {
      const width = Math.max(1, Math.round((value / max) * plot));
      const barY = y + s * BAR_HEIGHT;
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${barY}" width="${width}" height="${BAR_HEIGHT - 2}" fill="${chart.series[s]!.color}"/>`,
        `<text x="${LABEL_WIDTH + width + 4}" y="${barY + BAR_HEIGHT - 5}">${escape(Math.round(value).toLocaleString('en-US'))}</text>`,
      );
    });
  });
  parts.push(`<text x="10" y="${height - 14}" fill="#555555">${escape(chart.note)}</text>`, '</svg>', '');
  return parts.join('\n');
}
