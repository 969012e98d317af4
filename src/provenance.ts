import type { context as GitHubContext } from '@actions/github'
import type { Champion, Decision, Rule } from './decision.js'
import { InputError } from './errors.js'

/**
 * Where a registration came from and why the gate let it in, recorded as immutable properties
 * on the version, so that a deploy job (the verify action) can check it forever after.
 */

/** The workflow run, as @actions/github's context describes it. */
export type GitHubRun = Pick<
  typeof GitHubContext,
  'sha' | 'ref' | 'workflow' | 'runId' | 'runAttempt' | 'actor' | 'eventName' | 'serverUrl'
> & { repository: string }

/**
 * Properties the gate writes on every version it registers. Version properties are immutable
 * and echoed as sent, unlike modelUri (the service may rewrite it), so they tell a re-run, an
 * answer that was lost and a race which version holds this run's model.
 */
export const GATE_PROPERTIES = {
  runId: 'gate.run_id',
  artifactPath: 'gate.artifact_path'
} as const

/** The provenance and verdict keys; with GATE_PROPERTIES, the `properties` input may not set them. */
export const PROVENANCE_KEYS = [
  'github.repository',
  'github.sha',
  'github.ref',
  'github.workflow',
  'github.run_id',
  'github.run_attempt',
  'github.run_url',
  'github.actor',
  'github.event_name',
  'gate.reason',
  'gate.metric',
  'gate.rule',
  'gate.champion_version',
  'gate.champion_value'
] as const

/**
 * The same variables, read the same way, as @actions/github's `Context` constructor: importing
 * the package itself would load Octokit and undici at start-up, and its exports map offers the
 * context only together with them.
 */
export function readGitHubRun(env: NodeJS.ProcessEnv = process.env): GitHubRun {
  return {
    repository: env.GITHUB_REPOSITORY ?? '',
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    workflow: env.GITHUB_WORKFLOW ?? '',
    runId: parseInt(env.GITHUB_RUN_ID ?? '', 10),
    runAttempt: parseInt(env.GITHUB_RUN_ATTEMPT ?? '', 10),
    actor: env.GITHUB_ACTOR ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com'
  }
}

/** `<server>/<repo>/actions/runs/<id>/attempts/<n>`; empty outside a workflow run. */
export function runUrl(run: GitHubRun): string {
  if (!run.repository || !Number.isFinite(run.runId)) return ''
  const attempt = Number.isFinite(run.runAttempt) ? run.runAttempt : 1
  return `${run.serverUrl.replace(/\/+$/, '')}/${run.repository}/actions/runs/${run.runId}/attempts/${attempt}`
}

/** The rule on one line, e.g. `higher-is-better; min-improvement 0.005`. */
export function ruleLine(rule: Rule): string {
  const parts = [
    rule.higherIsBetter ? 'higher-is-better' : 'lower-is-better',
    `min-improvement ${rule.minImprovement.toString()}`
  ]
  if (!rule.minRelativeImprovement.eq(0)) {
    parts.push(`min-relative-improvement ${rule.minRelativeImprovement.toString()}`)
  }
  if (rule.threshold) parts.push(`threshold ${rule.threshold.toString()}`)
  return parts.join('; ')
}

export interface Verdict {
  decision: Decision
  metric: string
  rule: Rule
  /** The champion compared against, undefined for the first version */
  champion?: Champion & { rawValue?: string }
}

/** Every provenance and verdict property, as strings (empty when unknown). */
export function provenanceProperties(
  run: GitHubRun,
  verdict: Verdict
): Record<(typeof PROVENANCE_KEYS)[number], string> {
  const { champion } = verdict
  return {
    'github.repository': run.repository,
    'github.sha': run.sha,
    'github.ref': run.ref,
    'github.workflow': run.workflow,
    'github.run_id': Number.isFinite(run.runId) ? String(run.runId) : '',
    'github.run_attempt': Number.isFinite(run.runAttempt) ? String(run.runAttempt) : '',
    'github.run_url': runUrl(run),
    'github.actor': run.actor,
    'github.event_name': run.eventName,
    'gate.reason': verdict.decision.reason,
    'gate.metric': verdict.metric,
    'gate.rule': ruleLine(verdict.rule),
    'gate.champion_version': champion?.version ?? '',
    'gate.champion_value': champion ? (champion.rawValue?.trim() ?? champion.value.toString()) : ''
  }
}

/** The `properties` input may not forge the gate's own record. */
export function rejectProvenanceKeys(input: string, properties: Record<string, string>): void {
  const reserved: readonly string[] = [...PROVENANCE_KEYS, ...Object.values(GATE_PROPERTIES)]
  const taken = Object.keys(properties).find(key => reserved.includes(key))
  if (taken) {
    throw new InputError(
      input,
      `'${taken}' is recorded by the gate itself and cannot be set; remove it or rename it`
    )
  }
}
