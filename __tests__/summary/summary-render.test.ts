// The job summary as a person sees it: summaryMarkdown → HTML → headless Chromium, with the
// mermaid chart drawn by the mermaid package. What can fail here and nowhere else: a chart that
// GitHub's mermaid cannot parse shows "Syntax error" in place of the history.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { summaryMarkdown } from '../../src/report.js'
import type { Outcome } from '../../src/outcome.js'
import {
  SummaryRenderer,
  findChromium,
  sampleOutcome,
  type Rendered
} from '../../scripts/summary-page.js'

const browser = findChromium()
const inCI = Boolean(process.env.CI) && process.env.CI !== 'false'
if (!browser && !inCI) {
  console.warn(
    'Skipping the summary screenshot tests: no Chromium found. Install it (apt-get install chromium) or set CHROMIUM_PATH; with CI=true they fail instead.'
  )
}
const suite = browser || inCI ? describe : describe.skip

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

suite('job summary rendered in Chromium', () => {
  let renderer: SummaryRenderer
  let dir: string

  beforeAll(async () => {
    if (!browser) {
      throw new Error(
        'CI is set but no Chromium was found at CHROMIUM_PATH, /usr/bin/chromium or /usr/bin/google-chrome; scripts/ci-extra.sh installs it.'
      )
    }
    dir = mkdtempSync(join(tmpdir(), 'summary-render-'))
    renderer = await SummaryRenderer.launch(browser)
  })

  afterAll(async () => {
    await renderer?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function render(name: string, outcome: Outcome): Promise<Rendered> {
    const path = join(dir, `${name}.png`)
    const result = await renderer.render(summaryMarkdown(outcome), path)
    const png = readFileSync(path)
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true)
    expect(png.length).toBeGreaterThan(10_000)
    return result
  }

  function expectChartDrawn(result: Rendered): void {
    expect(result.mermaid.errors).toEqual([])
    expect(result.mermaid.sources).toHaveLength(1)
    expect(result.mermaid.sources[0]).toContain('xychart-beta')
    expect(result.mermaid.rendered).toBe(1)
    expect(result.text).not.toMatch(/Syntax error/i)
  }

  test('registered: headline, candidate vs champion table, history chart', async () => {
    const result = await render('registered', sampleOutcome())
    expect(result.text).toContain('iris-classifier v4 registered')
    expect(result.text).toMatch(/Candidate\s+v4\s+0\.9733\s+tag of quiet_lemon_4k2v/)
    expect(result.text).toMatch(/Champion\s+v3\s+0\.9667\s+compare-to: latest/)
    expect(result.text).toMatch(/Improvement\s+\+0\.0066/)
    expect(result.text).toContain('accuracy (higher is better)')
    expectChartDrawn(result)
    expect(result.mermaid.svgText).toContain('accuracy by version')
    for (const label of ['v1', 'v2', 'v3', 'v4']) expect(result.mermaid.svgText).toContain(label)
    // The candidate is marked, and a value axis that does not start at 0 says so.
    expect(result.mermaid.svgText).toContain('candidate v4')
    expect(result.mermaid.svgText).toMatch(/value axis from 0\.\d+, not 0/)
  })

  test('scores beyond what a chart can draw: a line instead of the chart', async () => {
    const result = await render(
      'huge',
      sampleOutcome({ metricValue: '1e400', history: [{ version: '3', value: '1e309' }] })
    )
    expect(result.mermaid.sources).toHaveLength(0)
    expect(result.text).toContain('No chart: scores beyond')
  })

  test('not better, lower is better: the candidate is charted after the versions', async () => {
    const result = await render(
      'not-better',
      sampleOutcome({
        registered: false,
        reason: 'not-better',
        why: 'Not registered: 0.42 vs champion v2 0.4 (lower is better) is worse by 0.02.',
        metric: 'rmse',
        higherIsBetter: false,
        metricValue: '0.42',
        modelVersion: '',
        modelId: '',
        modelUri: '',
        championVersion: '2',
        championValue: '0.4',
        improvement: '-0.02',
        history: [
          { version: '2', value: '0.4' },
          { version: '1', value: '0.5' }
        ],
        links: { run: 'https://ml.azure.com/runs/pj2', model: '' }
      })
    )
    expect(result.text).toContain('iris-classifier: not registered (not-better)')
    expect(result.text).toMatch(/Candidate\s+not registered\s+0\.42/)
    expect(result.text).toMatch(/Champion\s+v2\s+0\.4\b/)
    expect(result.text).toContain('rmse (lower is better)')
    expectChartDrawn(result)
    expect(result.mermaid.svgText).toContain('candidate')
  })

  test('dry run of a first model: no champion and no chart', async () => {
    const result = await render(
      'dry-run-first',
      sampleOutcome({
        registered: false,
        reason: 'first',
        dryRun: true,
        why: 'Dry run, nothing written. Would register as the first version with a score: no registered version records one.',
        modelVersion: '',
        modelId: '',
        modelUri: '',
        artifactUri: '',
        championVersion: '',
        championValue: '',
        improvement: '',
        history: [],
        links: { run: 'https://ml.azure.com/runs/pj1', model: '' }
      })
    )
    expect(result.text).toContain('Dry run for iris-classifier: first')
    expect(result.text).toMatch(/Candidate\s+not registered \(dry run\)\s+0\.9733/)
    expect(result.text).toMatch(/Champion\s+none/)
    expect(result.mermaid.sources).toHaveLength(0)
  })

  test('negative scores and a metric name with quotes still chart', async () => {
    const result = await render(
      'negative',
      sampleOutcome({
        metric: 'neg_log_loss "val"',
        metricValue: '-0.05',
        championValue: '-0.07',
        improvement: '0.02',
        history: [
          { version: '3', value: '-0.07' },
          { version: '2', value: '-0.1' },
          { version: '1', value: '-0.2' }
        ]
      })
    )
    expectChartDrawn(result)
  })

  test('guardrail-failed: one row per metric, the bars readable (no escapes showing)', async () => {
    const result = await render(
      'guardrail-failed',
      sampleOutcome({
        registered: false,
        reason: 'guardrail-failed',
        why: 'Not registered: guardrail latency_ms 130 is not <= 110 (champion * 1.10), although 0.9733 beats champion v3 0.9667 by 0.0066.',
        modelVersion: '',
        modelId: '',
        modelUri: '',
        links: { run: 'https://ml.azure.com/runs/pj4', model: '' },
        guardrails: [
          {
            name: 'latency_ms',
            op: '<=',
            bound: 'champion * 1.10',
            limit: '110',
            candidate: '130',
            champion: '100',
            passed: false
          },
          {
            name: 'recall',
            op: '>=',
            bound: '0.8',
            limit: '0.8',
            candidate: '0.85',
            champion: '0.84',
            passed: true
          }
        ]
      })
    )
    expect(result.text).toContain('iris-classifier: not registered (guardrail-failed)')
    expect(result.text).toMatch(/Metric\s+Candidate\s+Champion v3\s+Bound/)
    expect(result.text).toMatch(
      /accuracy \(higher is better\)\s+0\.9733\s+0\.9667\s+> 0\.9667\s+✅/
    )
    expect(result.text).toMatch(/latency_ms\s+130\s+100\s+<= 110 \(champion \* 1\.10\)\s+❌/)
    expect(result.text).toMatch(/recall\s+0\.85\s+0\.84\s+>= 0\.8\s+✅/)
    expect(result.text).not.toContain('\\<')
    expectChartDrawn(result)
  })

  test("the README's mermaid diagrams draw too", async () => {
    const blocks = readFileSync('README.md', 'utf8').match(/```mermaid\n[\s\S]*?```/g) ?? []
    expect(blocks.length).toBeGreaterThan(0)
    const result = await renderer.render(blocks.join('\n\n'), join(dir, 'readme.png'))
    expect(result.mermaid.errors).toEqual([])
    expect(result.mermaid.rendered).toBe(blocks.length)
  })

  // Known bug in src/report.ts historyChart: values are written as given (a tag of '1e-3', or
  // Big's exponent form below 1e-7), and mermaid's xychart grammar has no exponents, so the chart
  // becomes "Syntax error". Turn this into a plain `test` once historyChart writes plain decimals.
  test('scores written with exponents still chart', async () => {
    const result = await render(
      'exponent',
      sampleOutcome({
        registered: false,
        reason: 'not-better',
        metric: 'error_rate',
        higherIsBetter: false,
        metricValue: '1e-3',
        modelVersion: '',
        championVersion: '1',
        championValue: '0.0009',
        improvement: '-0.0001',
        history: [{ version: '1', value: '0.0009' }]
      })
    )
    expectChartDrawn(result)
  })
})
