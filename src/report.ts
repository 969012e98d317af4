import * as core from '@actions/core'
import { Big } from 'big.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Outputs } from './names.js'
import type { Outcome } from './outcome.js'

/** Step outputs: every one always set (empty when not applicable), plus `result` with all. */
export function setOutputs(outcome: Outcome): Record<string, string> {
  const values: Record<string, string> = {
    [Outputs.Registered]: String(outcome.registered),
    [Outputs.Reason]: outcome.reason,
    [Outputs.DryRun]: String(outcome.dryRun),
    [Outputs.ModelName]: outcome.modelName,
    [Outputs.ModelVersion]: outcome.modelVersion,
    [Outputs.ModelId]: outcome.modelId,
    [Outputs.ModelUri]: outcome.modelUri,
    [Outputs.ArtifactUri]: outcome.artifactUri,
    [Outputs.MetricValue]: outcome.metricValue,
    [Outputs.ChampionVersion]: outcome.championVersion,
    [Outputs.ChampionValue]: outcome.championValue,
    [Outputs.ModelType]: outcome.modelType,
    [Outputs.RunId]: outcome.runId,
    [Outputs.MetricSource]: outcome.metricSource,
    [Outputs.MetricRunId]: outcome.metricRunId,
    [Outputs.TagsSource]: outcome.tagsSource,
    [Outputs.Guardrails]: JSON.stringify(outcome.guardrails)
  }
  for (const [name, value] of Object.entries(values)) core.setOutput(name, value)
  core.setOutput(Outputs.Result, JSON.stringify(decisionRecord(outcome)))
  return values
}

/** The full record: outputs, the rule applied and the history compared against. */
export function decisionRecord(outcome: Outcome): Record<string, unknown> {
  return {
    registered: outcome.registered,
    reason: outcome.reason,
    why: outcome.why,
    dryRun: outcome.dryRun,
    modelName: outcome.modelName,
    modelVersion: outcome.modelVersion,
    modelId: outcome.modelId,
    modelUri: outcome.modelUri,
    artifactUri: outcome.artifactUri,
    metric: outcome.metric,
    metricValue: outcome.metricValue,
    higherIsBetter: outcome.higherIsBetter,
    championVersion: outcome.championVersion,
    championValue: outcome.championValue,
    improvement: outcome.improvement,
    modelType: outcome.modelType,
    runId: outcome.runId,
    metricSource: outcome.metricSource,
    metricRunId: outcome.metricRunId,
    tagsSource: outcome.tagsSource,
    rule: outcome.rule,
    guardrails: outcome.guardrails,
    history: outcome.history,
    links: outcome.links
  }
}

export async function writeDecisionFile(path: string, outcome: Outcome): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, JSON.stringify(decisionRecord(outcome), null, 2) + '\n')
}

/** Notices a person sees in the run's annotations. */
export function announce(outcome: Outcome): void {
  const title = outcome.registered
    ? 'Model registered'
    : outcome.dryRun
      ? 'Dry run'
      : 'Model not registered'
  core.notice(outcome.why, { title })
}

export async function writeSummary(outcome: Outcome): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(summaryMarkdown(outcome), true).write()
}

/**
 * The job summary as markdown: headline, candidate vs champion, links, history chart, record.
 * A pull request comment leaves the chart out.
 */
export function summaryMarkdown(o: Outcome, { chart = true } = {}): string {
  const lines: string[] = []
  const icon = o.registered ? '✅' : o.dryRun ? '🧪' : '⏸️'
  const headline = o.dryRun
    ? `Dry run for ${o.modelName}: ${o.reason}`
    : o.reason === 'already-registered'
      ? `${o.modelName} v${o.modelVersion} already holds this run's model`
      : o.registered
        ? `${o.modelName} v${o.modelVersion} registered`
        : `${o.modelName}: not registered (${o.reason})`
  lines.push(`## ${icon} ${headline}`, '', o.why, '')
  const direction = o.higherIsBetter ? 'higher is better' : 'lower is better'
  lines.push(`| | Version | ${escape(o.metric)} (${direction}) | Source |`, '|---|---|---|---|')
  const candidateVersion = o.modelVersion
    ? `v${o.modelVersion}`
    : o.dryRun
      ? 'not registered (dry run)'
      : 'not registered'
  lines.push(
    `| **Candidate** | ${candidateVersion} | **${o.metricValue}** | ${escape(o.metricSource)} of [${escape(o.metricRunId)}](${o.links.run}) |`
  )
  lines.push(
    o.championVersion
      ? `| Champion | v${o.championVersion} | ${o.championValue} | compare-to: ${escape(o.rule.compareTo)}${o.championNote ? `; ${escape(o.championNote)}` : ''} |`
      : `| Champion | none | | no version records ${escape(o.metric)} |`
  )
  if (o.improvement) lines.push(`| Improvement | | ${signed(o.improvement)} | |`)
  lines.push('')
  if (o.guardrails.length > 0) lines.push(...metricsTable(o), '')
  const rules = [
    `min-improvement ${o.rule.minImprovement}`,
    `min-relative-improvement ${o.rule.minRelativeImprovement}`,
    o.rule.threshold ? `threshold ${o.rule.threshold}` : ''
  ].filter(Boolean)
  lines.push(`Rule: ${direction}, ${rules.join(', ')}; a tie does not replace the champion.`, '')
  const links = [`[Pipeline run ${escape(o.runId)}](${o.links.run})`]
  if (o.links.model)
    links.push(`[Model ${escape(o.modelName)} v${o.modelVersion}](${o.links.model})`)
  lines.push(links.join(' · '), '')
  const drawn = chart ? historyChart(o) : undefined
  if (drawn) lines.push(drawn, '')
  lines.push(
    '<details><summary>Decision record</summary>',
    '',
    '```json',
    JSON.stringify(decisionRecord(o), null, 2),
    '```',
    '',
    '</details>',
    ''
  )
  return lines.join('\n')
}

/** One row per metric, the score first: candidate, champion, the bar it had to meet, pass or fail. */
export function metricsTable(o: Outcome): string[] {
  const mark = (passed: boolean) => (passed ? '✅' : '❌')
  const champion = o.championVersion ? `Champion v${o.championVersion}` : 'Champion'
  const rows = [
    `| Metric | Candidate | ${champion} | Bound | |`,
    '|---|---|---|---|---|',
    `| **${escape(o.metric)}** (${o.higherIsBetter ? 'higher' : 'lower'} is better) | **${o.metricValue}** | ${o.championValue} | ${escape(primaryBound(o))} | ${mark(o.metricPassed)} |`
  ]
  for (const g of o.guardrails) {
    const relative = g.bound.startsWith('champion')
    const bound = !relative
      ? `${g.op} ${g.bound}`
      : g.limit
        ? `${g.op} ${g.limit} (${g.bound})`
        : `${g.op} ${g.bound}: no champion value, not compared`
    pushRow(rows, g.name, g.candidate, g.champion, bound, mark(g.passed))
  }
  return rows
}

function pushRow(rows: string[], ...cells: string[]): void {
  rows.push(`| ${cells.map(escape).join(' | ')} |`)
}

/** The bar the score had to meet: beat the champion (by the minimum improvements), and the threshold. */
function primaryBound(o: Outcome): string {
  const [beat, reach] = o.higherIsBetter ? ['>', '>='] : ['<', '<=']
  const bars: string[] = []
  if (o.championValue) {
    const champion = new Big(o.championValue.replace(/^\+/, ''))
    const relative = new Big(o.rule.minRelativeImprovement).times(champion.abs())
    const minimum = new Big(o.rule.minImprovement)
    const margin = minimum.gt(relative) ? minimum : relative
    const bar = o.higherIsBetter ? champion.plus(margin) : champion.minus(margin)
    bars.push(margin.eq(0) ? `${beat} ${champion.toString()}` : `${reach} ${bar.toString()}`)
  }
  if (o.rule.threshold) bars.push(`${reach} ${o.rule.threshold} (threshold)`)
  return bars.join(' and ') || 'none'
}

/**
 * Scores a chart can draw: mermaid reads them as binary doubles, and a value axis spanning
 * 1e-300 to 1e300 shows nothing anyway. The tables above the chart keep every exact value.
 */
const CHART_RANGE = { smallest: new Big('1e-12'), largest: new Big('1e15') }

/**
 * The metric over the last versions and the candidate, as a mermaid chart GitHub renders, or a
 * line saying why there is none. The candidate's point is marked; the title says when the value
 * axis does not start at 0, since bars drawn from elsewhere exaggerate differences.
 */
export function historyChart(o: Outcome): string | undefined {
  const candidateLabel = o.registered ? `candidate v${o.modelVersion}` : 'candidate'
  const points = [...o.history].reverse().map(h => ({
    label: o.registered && h.version === o.modelVersion ? candidateLabel : `v${h.version}`,
    value: new Big(h.value)
  }))
  if (!points.some(p => p.label === candidateLabel))
    points.push({ label: candidateLabel, value: new Big(o.metricValue) })
  if (points.length < 2) return undefined
  const drawable = points.every(
    ({ value }) =>
      value.eq(0) || (value.abs().gte(CHART_RANGE.smallest) && value.abs().lte(CHART_RANGE.largest))
  )
  if (!drawable) {
    return `_No chart: scores beyond ±${CHART_RANGE.largest.toExponential()} or closer to 0 than ${CHART_RANGE.smallest.toExponential()} cannot be drawn; the table above has the exact values._`
  }
  const shown = points.map(p => Number(p.value.prec(8).toFixed()))
  const low = Math.min(...shown)
  const high = Math.max(...shown)
  const pad = (high - low) * 0.1 || Math.abs(high) * 0.01 || 1
  // Scores that are never negative do not need an axis below 0.
  const from = low >= 0 && low - pad < 0 ? 0 : low - pad
  const name = o.metric.replace(/"/g, "'")
  const title =
    from === 0 ? `${name} by version` : `${name} by version (value axis from ${round(from)}, not 0)`
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${title}"`,
    `  x-axis [${points.map(p => `"${p.label}"`).join(', ')}]`,
    `  y-axis "${name}" ${round(from)} --> ${round(high + pad)}`,
    `  bar [${shown.map(plain).join(', ')}]`,
    `  line [${shown.map(plain).join(', ')}]`,
    '```'
  ].join('\n')
}

/** Mermaid's chart grammar has no exponents: 1e-3 must be written 0.001. */
function plain(value: number): string {
  return new Big(value).toFixed()
}

function round(value: number): string {
  return new Big(value.toPrecision(6)).toFixed()
}

function signed(value: string): string {
  return value.startsWith('-') ? value : `+${value}`
}

function escape(text: string): string {
  return text.replace(/[|<>[\]]/g, c => `\\${c}`)
}
