import * as core from '@actions/core'
import { Big } from 'big.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Outputs } from './inputs.js'
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
    [Outputs.TagsSource]: outcome.tagsSource
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
    tagsSource: outcome.tagsSource,
    rule: outcome.rule,
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
    `| **Candidate** | ${candidateVersion} | **${o.metricValue}** | [${escape(o.tagsSource)}](${o.links.run}) |`
  )
  lines.push(
    o.championVersion
      ? `| Champion | v${o.championVersion} | ${o.championValue} | compare-to: ${escape(o.rule.compareTo)} |`
      : `| Champion | none | | no version records ${escape(o.metric)} |`
  )
  if (o.improvement) lines.push(`| Improvement | | ${signed(o.improvement)} | |`)
  lines.push('')
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

/** The metric over the last versions and the candidate, as a mermaid chart GitHub renders. */
export function historyChart(o: Outcome): string | undefined {
  const points = [...o.history].reverse().map(h => ({ label: `v${h.version}`, value: h.value }))
  const candidateIsListed = o.registered && points.some(p => p.label === `v${o.modelVersion}`)
  if (!candidateIsListed)
    points.push({ label: o.registered ? `v${o.modelVersion}` : 'candidate', value: o.metricValue })
  if (points.length < 2) return undefined
  const values = points.map(p => Number(p.value))
  const low = Math.min(...values)
  const high = Math.max(...values)
  const pad = (high - low) * 0.1 || Math.abs(high) * 0.01 || 1
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${o.metric.replace(/"/g, "'")} by version"`,
    `  x-axis [${points.map(p => `"${p.label}"`).join(', ')}]`,
    `  y-axis "${o.metric.replace(/"/g, "'")}" ${round(low - pad)} --> ${round(high + pad)}`,
    `  bar [${points.map(p => plain(p.value)).join(', ')}]`,
    `  line [${points.map(p => plain(p.value)).join(', ')}]`,
    '```'
  ].join('\n')
}

/** Mermaid's chart grammar has no exponents: 1e-3 must be written 0.001. */
function plain(value: string): string {
  return new Big(value.replace(/^\+/, '')).toFixed()
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
