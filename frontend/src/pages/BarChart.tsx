// A small SVG bar chart (no chart library: a few hundred bytes instead of ~50 kB).
interface Props {
  title: string
  points: { label: string; value: number }[]
  format: (v: number) => string
  color?: string
}

export function BarChart({ title, points, format, color = 'var(--accent)' }: Props) {
  const W = 460
  const H = 150
  const pad = { l: 8, r: 8, t: 10, b: 22 }
  const max = Math.max(0, ...points.map((p) => p.value))
  const n = Math.max(points.length, 1)
  const step = (W - pad.l - pad.r) / n
  const bar = Math.max(2, Math.min(28, step * 0.7))
  const h = H - pad.t - pad.b
  const labelEvery = Math.ceil(n / 6)
  return (
    <figure className="chart">
      <figcaption>
        <span>{title}</span>
        <span className="muted">max {format(max)}</span>
      </figcaption>
      {points.length === 0 ? (
        <div className="chart-empty muted">No data in this range yet.</div>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} preserveAspectRatio="none">
          <line x1={pad.l} x2={W - pad.r} y1={H - pad.b} y2={H - pad.b} className="axis" />
          {points.map((p, i) => {
            const bh = max > 0 ? (p.value / max) * h : 0
            const x = pad.l + i * step + (step - bar) / 2
            return (
              <g key={i}>
                <rect x={x} y={H - pad.b - bh} width={bar} height={Math.max(bh, p.value > 0 ? 1 : 0)} rx={2} fill={color}>
                  <title>
                    {p.label}: {format(p.value)}
                  </title>
                </rect>
                {i % labelEvery === 0 ? (
                  <text x={x + bar / 2} y={H - 6} textAnchor="middle" className="tick">
                    {p.label}
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
