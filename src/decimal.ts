import { Big } from 'big.js'

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
