import type { Stats } from './api.ts';

const WIDTH = 600;
const HEIGHT = 150;
const LEFT = 36;
const BOTTOM = 20;
const TOP = 8;

type Props = { perMinute: Stats['perMinute'] };

/** Acknowledgements (bars) and deliveries (line) per minute over the last hour. */
export function ActivityChart({ perMinute }: Props) {
  const peak = Math.max(1, ...perMinute.map((m) => Math.max(m.acknowledged, m.delivered)));
  const plotWidth = WIDTH - LEFT;
  const plotHeight = HEIGHT - BOTTOM - TOP;
  const step = plotWidth / Math.max(1, perMinute.length);
  const y = (value: number) => TOP + plotHeight - (value / peak) * plotHeight;
  const acknowledged = perMinute.reduce((sum, m) => sum + m.acknowledged, 0);
  const delivered = perMinute.reduce((sum, m) => sum + m.delivered, 0);
  const line = perMinute
    .map((m, i) => `${(LEFT + i * step + step / 2).toFixed(1)},${y(m.delivered).toFixed(1)}`)
    .join(' ');

  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="activity-title">
        <title id="activity-title">
          {`Last hour, per minute: ${acknowledged} requests acknowledged, ${delivered} callbacks delivered; busiest minute ${peak}.`}
        </title>
        <line class="axis" x1={LEFT} y1={TOP + plotHeight} x2={WIDTH} y2={TOP + plotHeight} />
        <line class="grid" x1={LEFT} y1={TOP} x2={WIDTH} y2={TOP} />
        <text class="label" x={LEFT - 4} y={TOP + 4} text-anchor="end">
          {peak}
        </text>
        <text class="label" x={LEFT - 4} y={TOP + plotHeight} text-anchor="end">
          0
        </text>
        {perMinute.map((m, i) => (
          <rect
            key={m.minute}
            class="bar"
            x={LEFT + i * step + step * 0.15}
            y={y(m.acknowledged)}
            width={step * 0.7}
            height={TOP + plotHeight - y(m.acknowledged)}
          />
        ))}
        <polyline class="line" points={line} />
        <text class="label" x={LEFT} y={HEIGHT - 4}>
          60 min ago
        </text>
        <text class="label" x={WIDTH} y={HEIGHT - 4} text-anchor="end">
          now
        </text>
      </svg>
      <figcaption class="legend">
        <span class="legend-item">
          <span class="swatch bar" aria-hidden="true" /> Acknowledged per minute ({acknowledged} in
          the hour)
        </span>
        <span class="legend-item">
          <span class="swatch line" aria-hidden="true" /> Delivered per minute ({delivered})
        </span>
      </figcaption>
    </figure>
  );
}
