// The results as a console table, as BENCHMARKS.md, and as a PNG bar chart of the ratios
// (an SVG drawn here, photographed by headless Chromium: no chart library, no native module).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Stats } from './measure.js'

export interface Row {
  target: string
  what: string
  value: Stats
  unit: string
  baseline: string
  ratio: number
  /** The bound on `ratio`, or undefined for rows that are only reported */
  limit?: { op: '≤' | '≥' | '<'; value: number }
}

export function passes(row: Row): boolean | undefined {
  if (!row.limit) return undefined
  const { op, value } = row.limit
  return op === '≤' ? row.ratio <= value : op === '<' ? row.ratio < value : row.ratio >= value
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—')

/** Ratios with two decimals; a quantity compared with its bound (MiB) without. */
const ratioText = (n: number) => fmt(n, Math.abs(n) >= 20 ? 0 : 2)

function digitsFor(unit: string): number {
  return unit === 'MiB/s' || unit === 'ms' || unit === 'MiB' ? 0 : 1
}

export function tableRows(rows: Row[]): string[][] {
  return rows.map(row => {
    const d = digitsFor(row.unit)
    const pass = passes(row)
    return [
      row.target,
      row.what,
      `${fmt(row.value.median, d)} ${row.unit}`,
      fmt(row.value.min, d),
      fmt(row.value.max, d),
      row.baseline,
      ratioText(row.ratio),
      row.limit ? `${row.limit.op} ${row.limit.value}` : 'report',
      pass === undefined ? '—' : pass ? 'PASS' : 'FAIL'
    ]
  })
}

export const HEADER = [
  'Target',
  'Measured',
  'Median',
  'Min',
  'Max',
  'Baseline',
  'Ratio',
  'Target',
  'Result'
]

export function consoleTable(rows: Row[]): string {
  const cells = [HEADER, ...tableRows(rows)]
  const widths = HEADER.map((_, i) => Math.max(...cells.map(r => r[i].length)))
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ')
  return [
    line(HEADER),
    widths.map(w => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line)
  ].join('\n')
}

export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|')
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map(r => `| ${r.map(esc).join(' | ')} |`)
  ].join('\n')
}

/** One bar per row with a bound, each on its own scale, the bound drawn as a dashed line. */
export function chartSvg(rows: Row[], title: string): string {
  const bars = rows.filter(row => row.limit)
  const width = 900
  const labelWidth = 330
  const barArea = width - labelWidth - 130
  const rowHeight = 46
  const top = 56
  const height = top + bars.length * rowHeight + 40
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const parts = bars.map((row, i) => {
    const limit = row.limit!
    const scale = Math.max(limit.value, row.ratio) * 1.25
    const x = (v: number) => labelWidth + (Math.max(0, v) / scale) * barArea
    const y = top + i * rowHeight
    const ok = passes(row)
    return [
      `<text x="${labelWidth - 12}" y="${y + 20}" text-anchor="end" class="label">${esc(row.target)}</text>`,
      `<text x="${labelWidth - 12}" y="${y + 36}" text-anchor="end" class="sub">${esc(row.what)}</text>`,
      `<rect x="${labelWidth}" y="${y + 8}" width="${x(row.ratio) - labelWidth}" height="24" rx="3" fill="${ok ? '#2da44e' : '#cf222e'}"/>`,
      `<line x1="${x(limit.value)}" x2="${x(limit.value)}" y1="${y + 2}" y2="${y + 38}" stroke="#24292f" stroke-width="2" stroke-dasharray="4 3"/>`,
      `<text x="${x(Math.max(limit.value, row.ratio)) + 8}" y="${y + 25}" class="value">${ratioText(row.ratio)} (${limit.op} ${limit.value})</text>`
    ].join('')
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<style>text{font-family:Helvetica,Arial,sans-serif;fill:#24292f}.title{font-size:18px;font-weight:bold}.label{font-size:14px}.sub{font-size:12px;fill:#57606a}.value{font-size:13px}.note{font-size:12px;fill:#57606a}</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="20" y="32" class="title">${esc(title)}</text>
${parts.join('\n')}
<text x="20" y="${height - 14}" class="note">Bars: measured ratio (green PASS, red FAIL); dashed line: the target. Each row on its own scale.</text>
</svg>`
}

/** Renders the SVG to a PNG with headless Chromium (playwright-core, no network). */
export async function renderPng(
  svg: string,
  pngPath: string,
  executablePath: string
): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'bench-chromium-'))
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
      viewport: { width: 900, height: 300 },
      deviceScaleFactor: 1,
      offline: true
    })
    try {
      const page = await context.newPage()
      await page.setContent(`<html><body style="margin:0">${svg}</body></html>`)
      await page.locator('svg').screenshot({ path: pngPath })
    } finally {
      await context.close()
    }
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}
