// A small SVG bar chart, one or more series side by side per bucket (no chart
// library: a few hundred bytes instead of ~50 kB).
interface Series {
  name: string
  color: string
  values: number[]
}

interface Props {
  title: string
  labels: string[]
  series: Series[]
  format: (v: number) => string
}

export function BarChart({ title, labels, series, format }: Props) {
  const W = 460
  const H = 150
  const pad = { l: 8, r: 8, t: 10, b: 22 }
  const max = Math.max(0, ...series.flatMap((s) => s.values))
  const n = Math.max(labels.length, 1)
  const step = (W - pad.l - pad.r) / n
  const group = Math.max(2, Math.min(36, step * 0.7))
  const bar = group / series.length
  const h = H - pad.t - pad.b
  const labelEvery = Math.ceil(n / 6)
  return (
    <figure className="chart">
      <figcaption>
        <span>{title}</span>
        <span className="legend">
          {series.length > 1
            ? series.map((s) => (
                <span key={s.name}>
                  <i style={{ background: s.color }} /> {s.name}
                </span>
              ))
            : null}
          <span className="muted">max {format(max)}</span>
        </span>
      </figcaption>
      {labels.length === 0 ? (
        <div className="chart-empty muted">No data in this range yet.</div>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} preserveAspectRatio="none">
          <line x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} className="axis" />
          {labels.map((label, i) => {
            const x0 = pad.l + i * step + (step - group) / 2
            return (
              <g key={i}>
                {series.map((s, j) => {
                  const v = s.values[i] ?? 0
                  const bh = max > 0 ? (v / max) * h : 0
                  return (
                    <rect
                      key={s.name}
                      x={x0 + j * bar}
                      y={H - pad.b - bh}
                      width={Math.max(1, bar - (series.length > 1 ? 1 : 0))}
                      height={Math.max(bh, v > 0 ? 1 : 0)}
                      rx={2}
                      fill={s.color}
                    >
                      <title>
                        {label} — {s.name}: {format(v)}
                      </title>
                    </rect>
                  )
                })}
                {i % labelEvery === 0 ? (
                  <text x={x0 + group / 2} y={H - 6} textAnchor="middle" className="tick">
                    {label}
                  </text>
                ) : null}
              </g>
            )
          })}
        </svg>
      )}
    </figure>
  )
}
