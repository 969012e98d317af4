import { Big } from 'big.js'

/**
 * The gate's rule, pure: no I/O, no SDK types. Scores are compared as exact decimals
 * (0.3 - 0.2 is 0.1 here, not 0.09999999999999998).
 */
export interface Rule {
  higherIsBetter: boolean
  minImprovement: Big
  minRelativeImprovement: Big
  threshold?: Big
}

export type Reason =
  'first' | 'better' | 'forced' | 'not-better' | 'below-threshold' | 'already-registered'

export interface Champion {
  version: string
  value: Big
}

export interface Decision {
  register: boolean
  reason: Reason
  /** candidate − champion, sign-adjusted so that positive is better */
  improvement?: Big
  /** One sentence a person can read in the job summary. */
  why: string
}

const DECIMAL = /^([+-]?)(\d*)\.?(\d*)(?:e([+-]?\d+))?$/i

/**
 * What a score may be: enough for any metric, and small enough that parsing, comparing and
 * printing it stay instant (1e-99999999 written out is a 100 MB string).
 */
export const DECIMAL_BOUNDS = { significantDigits: 100, exponent: 1000 }

/** Longer text is not a score someone wrote: no need to look at it digit by digit. */
const MAX_DECIMAL_LENGTH = 4096

/**
 * A finite decimal (`0.9667`, `-2`, `1e-3`) within DECIMAL_BOUNDS, or undefined for anything
 * else.
 */
export function parseDecimal(text: string | undefined): Big | undefined {
  const trimmed = text?.trim() ?? ''
  if (trimmed.length > MAX_DECIMAL_LENGTH) return undefined
  const match = DECIMAL.exec(trimmed)
  if (!match || (match[2] === '' && match[3] === '')) return undefined
  const [, sign, whole, fraction, exponent] = match
  const digits = whole + fraction
  const first = digits.search(/[1-9]/)
  if (first < 0) return new Big(`${sign === '-' ? '-' : ''}0`)
  const significant = digits.slice(first).replace(/0+$/, '').length
  // The exponent of the first significant digit: 0.001 → -3, 123.4 → 2.
  const scale = Number(exponent ?? 0) + whole.length - 1 - first
  if (
    significant > DECIMAL_BOUNDS.significantDigits ||
    !(Math.abs(scale) <= DECIMAL_BOUNDS.exponent)
  ) {
    return undefined
  }
  return new Big(trimmed.replace(/^\+/, ''))
}

export function decide(
  candidate: Big,
  champion: Champion | undefined,
  rule: Rule,
  force: boolean
): Decision {
  const better = rule.higherIsBetter ? 'higher' : 'lower'
  const sign = rule.higherIsBetter ? 1 : -1
  const improvement = champion ? candidate.minus(champion.value).times(sign) : undefined

  if (force) {
    return {
      register: true,
      reason: 'forced',
      improvement,
      why: `Registered because force is true${champion ? `, without comparing it with champion v${champion.version} (${champion.value.toString()})` : ''}.`
    }
  }
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
