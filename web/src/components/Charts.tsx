import { useEffect, useId, useRef, useState, type ReactNode, type RefObject } from 'react';
import { num } from '../format.js';
import { TableWrap } from './common.js';

/** Colours distinguishable with the common colour-vision deficiencies (Okabe–Ito), darkened for contrast on white. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#8A6D00', '#56B4E9', '#444444', '#E69F00'];

/** The width available to a chart, so it is drawn at 1:1 (text stays readable on a narrow window). */
function useChartWidth(max = 640): [RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(max);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver((entries) => {
      const available = entries[0]?.contentRect.width;
      if (available) setWidth(Math.max(220, Math.min(max, Math.floor(available))));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [max]);
  return [ref, width];
}

export interface StackedRow {
  label: string;
  values: Record<string, number>;
}

/**
 * Horizontal stacked bars (one bar per row, one segment per series), drawn as SVG. It is an image to assistive
 * technology (title + description); the same numbers are in the table below it.
 */
export function StackedBarChart({
  title,
  description,
  rows,
  series,
  unit,
}: {
  title: string;
  description: string;
  rows: StackedRow[];
  series: string[];
  unit: string;
}) {
  const id = useId();
  const [boxRef, width] = useChartWidth();
  const rowHeight = 44;
  const barHeight = 18;
  const labelWidth = 0;
  const max = Math.max(1, ...rows.map((row) => series.reduce((sum, s) => sum + (row.values[s] ?? 0), 0)));
  const height = rows.length * rowHeight + 8;
  const scale = (value: number) => (value / max) * (width - labelWidth - 70);
  return (
    <figure className="chart">
      <figcaption id={`${id}-caption`}>{title}</figcaption>
      <ul className="legend" aria-hidden="true">
        {series.map((s, i) => (
          <li key={s}>
            <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
            {s}
          </li>
        ))}
      </ul>
      <div ref={boxRef} className="chart-box">
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-labelledby={`${id}-title ${id}-desc`} className="chart-svg">
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        {rows.map((row, r) => {
          let x = labelWidth;
          const total = series.reduce((sum, s) => sum + (row.values[s] ?? 0), 0);
          const y = r * rowHeight;
          return (
            <g key={row.label}>
              <text x={0} y={y + 14} className="chart-label">
                {row.label}
              </text>
              {series.map((s, i) => {
                const value = row.values[s] ?? 0;
                if (value === 0) return null;
                const w = Math.max(1, scale(value));
                const rect = (
                  <rect key={s} x={x} y={y + 20} width={w} height={barHeight} fill={PALETTE[i % PALETTE.length]} stroke="#fff" strokeWidth={1}>
                    <title>{`${row.label}, ${s}: ${num(value)} ${unit}`}</title>
                  </rect>
                );
                x += w;
                return rect;
              })}
              <text x={x + 6} y={y + 34} className="chart-value">
                {num(total)}
              </text>
            </g>
          );
        })}
      </svg>
      </div>
      <ChartTable title={title}>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Row</span>
            </th>
            {series.map((s) => (
              <th scope="col" className="num" key={s}>
                {s}
              </th>
            ))}
            <th scope="col" className="num">
              Total
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.label}>
              <th scope="row">{row.label}</th>
              {series.map((s) => (
                <td className="num" key={s}>
                  {num(row.values[s] ?? 0)}
                </td>
              ))}
              <td className="num">{num(series.reduce((sum, s) => sum + (row.values[s] ?? 0), 0))}</td>
            </tr>
          ))}
        </tbody>
      </ChartTable>
    </figure>
  );
}

/** One horizontal bar per category (e.g. failures by reason), with the value written beside it. */
export function BarChart({ title, description, bars, unit }: { title: string; description: string; bars: { label: string; value: number }[]; unit: string }) {
  const id = useId();
  const [boxRef, width] = useChartWidth();
  const rowHeight = 40;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * rowHeight + 4;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={boxRef} className="chart-box">
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-labelledby={`${id}-title ${id}-desc`} className="chart-svg">
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        {bars.map((bar, i) => {
          const y = i * rowHeight;
          const w = Math.max(1, (bar.value / max) * (width - 70));
          return (
            <g key={bar.label}>
              <text x={0} y={y + 13} className="chart-label">
                {bar.label}
              </text>
              <rect x={0} y={y + 18} width={w} height={16} fill={PALETTE[1]}>
                <title>{`${bar.label}: ${num(bar.value)} ${unit}`}</title>
              </rect>
              <text x={w + 6} y={y + 31} className="chart-value">
                {num(bar.value)}
              </text>
            </g>
          );
        })}
      </svg>
      </div>
      <ChartTable title={title}>
        <thead>
          <tr>
            <th scope="col">Reason</th>
            <th scope="col" className="num">
              {unit}
            </th>
          </tr>
        </thead>
        <tbody>
          {bars.map((bar) => (
            <tr key={bar.label}>
              <th scope="row">{bar.label}</th>
              <td className="num">{num(bar.value)}</td>
            </tr>
          ))}
        </tbody>
      </ChartTable>
    </figure>
  );
}

/** A chart's numbers as a table, folded under the chart (for screen readers and for reading exact values). */
function ChartTable({ title, children }: { title: string; children: ReactNode }) {
  return (
    <details className="chart-table">
      <summary>The numbers of “{title}” as a table</summary>
      <TableWrap label={title}>
        <table className="data">{children}</table>
      </TableWrap>
    </details>
  );
}
