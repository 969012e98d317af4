import type { Big } from 'big.js'
import { parseDecimal } from './decimal.js'
import { UserError } from './errors.js'

/**
 * Guardrails: metrics besides the score that must not regress (`latency_ms <= champion * 1.10`).
 * The grammar and the evaluation are pure; the values come in through a reader callback, so the
 * same rules work whatever source the score is read from.
 */
export const GUARDRAIL_OPS = ['>=', '<=', '>', '<'] as const
export type GuardrailOp = (typeof GUARDRAIL_OPS)[number]

/** What the metric is compared with: a fixed bar, or the champion's value of the same metric. */
export type Bound =
  | { kind: 'absolute'; value: Big }
  | { kind: 'champion'; arithmetic?: { op: '+' | '-' | '*'; operand: Big } }

export interface Guardrail {
  name: string
  op: GuardrailOp
  bound: Bound
  /** The bound as written, spaced evenly: `0.80`, `champion * 1.10` */
  boundText: string
}

/** A metric's value as recorded (kept as written) and as an exact decimal. */
export interface Measured {
  text: string
  value: Big
}

export interface GuardrailResult {
  name: string
  op: GuardrailOp
  /** As written: `0.80`, `champion - 0.02` */
  bound: string
  /** The bar this candidate had to meet; empty when a relative bound had no champion value */
  limit: string
  candidate: string
  /** The champion's recorded value of the metric; empty when it has none */
  champion: string
  passed: boolean
}

export const GUARDRAIL_FORM =
  "NAME OP BOUND, where OP is >=, <=, > or < and BOUND is a decimal, champion, champion + D, champion - D or champion * D (e.g. 'latency_ms <= champion * 1.10')"

/** A line of the guardrails input that does not follow the grammar. */
export class GuardrailSyntaxError extends Error {
  override name = 'GuardrailSyntaxError'
}

// A name cannot hold whitespace or an operator character, so spaces around OP are optional.
const LINE = /^([^\s<>=]+)\s*(>=|<=|>|<)\s*(.+)$/
const RELATIVE = /^champion(?:\s*([-+*])\s*(\S+))?$/

/** One rule a line; blank lines and `#` comments (whole lines, or after a space) are ignored. */
export function parseGuardrails(text: string): Guardrail[] {
  const rules: Guardrail[] = []
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim()
    if (line !== '') rules.push(parseLine(line, index + 1))
  })
  return rules
}

function parseLine(line: string, number: number): Guardrail {
  const fail = () => new GuardrailSyntaxError(`line ${number} '${line}' is not ${GUARDRAIL_FORM}`)
  const match = LINE.exec(line)
  if (!match) throw fail()
  const [, name, op, boundText] = match
  const absolute = parseDecimal(boundText)
  if (absolute) {
    return { name, op: op as GuardrailOp, bound: { kind: 'absolute', value: absolute }, boundText }
  }
  const relative = RELATIVE.exec(boundText)
  if (!relative) throw fail()
  const [, arithmetic, operandText] = relative
  if (!arithmetic) return { name, op: op as GuardrailOp, bound: { kind: 'champion' }, boundText }
  const operand = parseDecimal(operandText)
  if (!operand) throw fail()
  return {
    name,
    op: op as GuardrailOp,
    bound: { kind: 'champion', arithmetic: { op: arithmetic as '+' | '-' | '*', operand } },
    boundText: `champion ${arithmetic} ${operandText}`
  }
}

/**
 * Reads each guardrail metric once (in parallel) with `read`, which looks where the score was
 * found; `where` names that place in the error when one is missing or not a number.
 */
export async function readGuardrailValues(
  rules: readonly Guardrail[],
  read: (name: string) => Promise<string | undefined>,
  where: string
): Promise<Map<string, Measured>> {
  const names = [...new Set(rules.map(rule => rule.name))]
  const texts = await Promise.all(names.map(name => read(name)))
  const missing = names.filter((_, i) => texts[i] === undefined)
  if (missing.length > 0) {
    throw new UserError(
      `Guardrail metric ${missing.map(name => `'${name}'`).join(', ')} not found in ${where}; record it in the same run as the score, or remove its guardrail.`
    )
  }
  const values = new Map<string, Measured>()
  names.forEach((name, i) => {
    const text = (texts[i] as string).trim()
    const value = parseDecimal(text)
    if (!value) {
      throw new UserError(
        `Guardrail metric '${name}' in ${where} is '${text}', not a finite decimal number (e.g. 120); fix how the pipeline records it.`
      )
    }
    values.set(name, { text, value })
  })
  return values
}

/** The champion's side: its version and the properties recorded on it. */
export interface ChampionMetrics {
  version: string
  properties?: Readonly<Record<string, string>>
}

/**
 * Every rule against the candidate's values and the champion's. A relative rule whose champion
 * recorded no usable value passes (there is nothing to regress from), with a warning when a
 * champion exists but lacks it.
 */
export function evaluateGuardrails(
  rules: readonly Guardrail[],
  candidate: ReadonlyMap<string, Measured>,
  champion: ChampionMetrics | undefined
): { results: GuardrailResult[]; warnings: string[] } {
  const warnings: string[] = []
  const results = rules.map(rule => {
    const measured = candidate.get(rule.name)
    if (!measured) throw new Error(`No value was read for guardrail metric '${rule.name}'`)
    const recorded = championValue(champion, rule.name)
    const limit = limitOf(rule.bound, recorded?.value)
    if (!limit && champion) {
      warnings.push(
        `Guardrail '${guardrailText(rule)}' passes without a comparison: champion v${champion.version} ${recorded ? `records '${rule.name}' as '${recorded.text}', not a number` : `has no '${rule.name}' property`}.`
      )
    }
    return {
      name: rule.name,
      op: rule.op,
      bound: rule.boundText,
      limit: limit?.toString() ?? '',
      candidate: measured.text,
      champion: recorded?.text ?? '',
      passed: !limit || holds(measured.value, rule.op, limit)
    }
  })
  return { results, warnings }
}

function championValue(
  champion: ChampionMetrics | undefined,
  name: string
): { text: string; value?: Big } | undefined {
  const properties = champion?.properties
  if (!properties || !Object.hasOwn(properties, name)) return undefined
  const text = properties[name].trim()
  return { text, value: parseDecimal(text) }
}

function limitOf(bound: Bound, champion: Big | undefined): Big | undefined {
  if (bound.kind === 'absolute') return bound.value
  if (!champion || !bound.arithmetic) return champion
  const { op, operand } = bound.arithmetic
  if (op === '+') return champion.plus(operand)
  if (op === '-') return champion.minus(operand)
  return champion.times(operand)
}

function holds(value: Big, op: GuardrailOp, limit: Big): boolean {
  switch (op) {
    case '>=':
      return value.gte(limit)
    case '<=':
      return value.lte(limit)
    case '>':
      return value.gt(limit)
    case '<':
      return value.lt(limit)
  }
}

export function guardrailText(rule: Pick<Guardrail, 'name' | 'op' | 'boundText'>): string {
  return `${rule.name} ${rule.op} ${rule.boundText}`
}

/** `latency_ms 130 is not <= 110 (champion * 1.10)`, for the sentence saying why. */
export function describeFailure(result: GuardrailResult): string {
  const relative = result.bound.startsWith('champion') ? ` (${result.bound})` : ''
  return `${result.name} ${result.candidate} is not ${result.op} ${result.limit}${relative}`
}
