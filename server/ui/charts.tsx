/**
 * Charts as inline SVG, drawn on the server: no script, no library. The SVG holds only the
 * shapes and stretches to its box; the labels are HTML beside it, so text keeps its size
 * from 360 px phones to desktops. Colours come from the style sheet's classes and follow
 * the light or dark scheme. Each chart has a text equivalent for screen readers.
 */

export interface Bar {
  label: string;
  value: number;
  /** What the bar's end says, e.g. "1.2 GiB". */
  text: string;
}

/** Horizontal bars on one scale. */
export function BarChart(props: { title: string; bars: Bar[] }) {
  const max = Math.max(1, ...props.bars.map((bar) => bar.value));
  return (
    <figure class="bars">
      <figcaption class="visually-hidden">{props.title}</figcaption>
      <ul>
        {props.bars.map((bar, index) => (
          <li>
            <span class="bar-label">{bar.label}</span>
            <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
              <rect
                class={index % 2 === 0 ? "bar-1" : "bar-2"}
                width={Math.max(0.5, (bar.value / max) * 100).toFixed(2)}
                height={10}
              />
            </svg>
            <span class="bar-value">{bar.text}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

export interface Point {
  /** Unix milliseconds. */
  x: number;
  y: number;
}

export interface Series {
  label: string;
  points: Point[];
}

/**
 * One or two lines over time on a y scale from zero, the first with its area filled;
 * `format` writes the y labels. `summary` is what a screen reader hears instead.
 */
export function TimeChart(
  props: {
    id: string;
    title: string;
    summary: string;
    series: Series[];
    format: (y: number) => string;
  },
) {
  const width = 1000;
  const height = 300;
  const all = props.series.flatMap((s) => s.points);
  if (all.length === 0) return <p class="empty">Nothing to chart yet.</p>;
  const minX = Math.min(...all.map((p) => p.x));
  const maxX = Math.max(...all.map((p) => p.x));
  const maxY = Math.max(1, ...all.map((p) => p.y));
  const spanX = Math.max(1, maxX - minX);
  const sx = (x: number) => ((x - minX) / spanX) * width;
  const sy = (y: number) => 4 + (1 - y / maxY) * (height - 8);
  const path = (points: Point[]) =>
    points.map((p, i) => `${i === 0 ? "M" : "L"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join(" ");
  const first = props.series[0]?.points ?? [];
  const area = first.length > 1
    ? `${path(first)} L${sx(first[first.length - 1].x).toFixed(1)},${height} L${
      sx(first[0].x).toFixed(1)
    },${height} Z`
    : "";
  // Dates, or times of day when the chart spans less than two days.
  const day = (x: number) =>
    spanX < 2 * 24 * 60 * 60 * 1000
      ? new Date(x).toISOString().slice(5, 16).replace("T", " ")
      : new Date(x).toISOString().slice(0, 10);
  return (
    <figure class="timechart" aria-labelledby={`${props.id}-title`}>
      <figcaption id={`${props.id}-title`} class="visually-hidden">
        {props.title}. {props.summary}
      </figcaption>
      <div class="tc-y" aria-hidden="true">
        <span>{props.format(maxY)}</span>
        <span>{props.format(maxY / 2)}</span>
        <span>0</span>
      </div>
      <svg
        class="tc-plot"
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        aria-hidden="true"
      >
        {[0.5, 1].map((f) => (
          <line
            class="grid"
            x1={0}
            x2={width}
            y1={sy(f * maxY)}
            y2={sy(f * maxY)}
            vector-effect="non-scaling-stroke"
          />
        ))}
        <line
          class="grid"
          x1={0}
          x2={width}
          y1={height - 1}
          y2={height - 1}
          vector-effect="non-scaling-stroke"
        />
        {area && <path class="area-1" d={area} />}
        {props.series.map((s, index) => (
          <path
            class={index === 0 ? "line-1" : "line-2"}
            d={path(s.points)}
            vector-effect="non-scaling-stroke"
          />
        ))}
      </svg>
      <div class="tc-x" aria-hidden="true">
        <span>{day(minX)}</span>
        <span>{day(minX + spanX / 2)}</span>
        <span>{day(maxX)}</span>
      </div>
      {props.series.length > 1 && (
        <ul class="legend" aria-hidden="true">
          {props.series.map((s, index) => (
            <li key={s.label} class={`key-${index + 1}`}>{s.label}</li>
          ))}
        </ul>
      )}
    </figure>
  );
}
