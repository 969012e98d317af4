import { Big } from 'big.js'
import {
  describeFailure,
  evaluateGuardrails,
  type Guardrail,
  type GuardrailResult,
  type Measured
} from './guardrails.js'

/**
 * The gate's rule, pure: no I/O, no SDK types. Scores are compared as exact decimals
 * (0.3 - 0.2 is 0.1 here, not 0.09999999999999998).
 */
export interface Rule {
  higherIsBetter: boolean
  minImprovement: Big
  minRelativeImprovement: Big
  threshold?: Big
  /** Other metrics that must not regress, checked once the score would register */
  guardrails?: readonly Guardrail[]
}

export type Reason =
  | 'first'
  | 'better'
  | 'forced'
  | 'not-better'
  | 'below-threshold'
  | 'guardrail-failed'
  | 'already-registered'

export interface Champion {
  version: string
  value: Big
  /** The properties recorded on the champion version: where its guardrail metrics are */
  properties?: Readonly<Record<string, string>>
}

export interface Decision {
  register: boolean
  reason: Reason
  /** candidate − champion, sign-adjusted so that positive is better */
  improvement?: Big
  /** One sentence a person can read in the job summary. */
  why: string
  /** Whether the score alone passes the rule (it may still be forced, or stopped by a guardrail) */
  metricPassed: boolean
  guardrails: GuardrailResult[]
  /** For the log: guardrails that passed only because the champion has no value to compare */
  warnings: string[]
}

// Shared with guardrails.ts, which decide() imports: its own module avoids an import cycle.
export { DECIMAL_BOUNDS, parseDecimal } from './decimal.js'

/**
 * The score decides better or not; a candidate that would register must also pass every
 * guardrail (`measured` holds the candidate's guardrail metrics). `force` overrides both.
 */
export function decide(
  candidate: Big,
  champion: Champion | undefined,
  rule: Rule,
  force: boolean,
  measured: ReadonlyMap<string, Measured> = new Map()
): Decision {
  const { results, warnings } = evaluateGuardrails(rule.guardrails ?? [], measured, champion)
  const verdict = judge(candidate, champion, rule)
  const base = { metricPassed: verdict.register, guardrails: results, warnings }
  const failed = results.filter(result => !result.passed).map(describeFailure)
  if (force) return { ...base, ...forced(verdict, champion, failed) }
  if (failed.length === 0) return { ...base, ...verdict }
  if (!verdict.register) {
    return {
      ...base,
      ...verdict,
      why: `${verdict.why} Failing guardrails too: ${failed.join('; ')}.`
    }
  }
  const passes = verdict.improvement
    ? `${candidate.toString()} beats champion v${champion?.version} ${champion?.value.toString()} by ${verdict.improvement.toString()}`
    : 'it would be the first version with a score'
  return {
    ...base,
    register: false,
    reason: 'guardrail-failed',
    improvement: verdict.improvement,
    why: `Not registered: ${failed.length > 1 ? 'guardrails' : 'guardrail'} ${failed.join('; ')}, although ${passes}.`
  }
}

type Verdict = Pick<Decision, 'register' | 'reason' | 'improvement' | 'why'>

/** `force` registers whatever the score and the guardrails; the sentence names what it overrode. */
function forced(verdict: Verdict, champion: Champion | undefined, failed: string[]): Verdict {
  const compared = champion
    ? `, without comparing it with champion v${champion.version} (${champion.value.toString()})`
    : ''
  const overridden = failed.length
    ? ` It overrides the failing guardrails: ${failed.join('; ')}.`
    : ''
  return {
    register: true,
    reason: 'forced',
    improvement: verdict.improvement,
    why: `Registered because force is true${compared}.${overridden}`
  }
}

/** The score alone against the rule: threshold, then the champion. */
function judge(candidate: Big, champion: Champion | undefined, rule: Rule): Verdict {
  const better = rule.higherIsBetter ? 'higher' : 'lower'
  const sign = rule.higherIsBetter ? 1 : -1
  const improvement = champion ? candidate.minus(champion.value).times(sign) : undefined

  if (rule.threshold && candidate.minus(rule.threshold).times(sign).lt(0)) {
    const bound = rule.higherIsBetter ? 'at least' : 'at most'
    return {
      register: false,
      reason: 'below-threshold',
      improvement,
      why: `Not registered: ${candidate.toString()} does not reach the threshold (${bound} ${rule.threshold.toString()}).`
    }
  }
  if (!champion || !improvement) {
    return {
      register: true,
      reason: 'first',
      why: `Registered as the first version with a score: no registered version records one.`
    }
  }
  const failed = unmet(improvement, champion.value, rule)
  if (failed) {
    return {
      register: false,
      reason: 'not-better',
      improvement,
      why: `Not registered: ${candidate.toString()} vs champion v${champion.version} ${champion.value.toString()} (${better} is better) ${failed}.`
    }
  }
  return {
    register: true,
    reason: 'better',
    improvement,
    why: `Registered: ${candidate.toString()} beats champion v${champion.version} ${champion.value.toString()} by ${improvement.toString()} (${better} is better).`
  }
}

/** Why an improvement falls short, or undefined when it is enough. */
function unmet(improvement: Big, championValue: Big, rule: Rule): string | undefined {
  if (improvement.eq(0)) return 'is a tie, and a tie does not replace the champion'
  if (improvement.lt(0)) return `is worse by ${improvement.abs().toString()}`
  if (improvement.lt(rule.minImprovement)) {
    return `improves by ${improvement.toString()}, less than min-improvement ${rule.minImprovement.toString()}`
  }
  // Relative to |champion|, compared by multiplying so that no division rounds; a zero
  // champion has no meaningful relative scale, so the rule is skipped.
  if (
    !championValue.eq(0) &&
    improvement.lt(rule.minRelativeImprovement.times(championValue.abs()))
  ) {
    const relative = improvement.div(championValue.abs())
    return `improves by ${relative.times(100).round(4).toString()}% relative, less than min-relative-improvement ${rule.minRelativeImprovement.toString()}`
  }
  return undefined
}
