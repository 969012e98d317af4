import { Big } from 'big.js'

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i

/** A finite decimal (`0.9667`, `-2`, `1e-3`), or undefined for anything else. */
export function parseDecimal(text: string | undefined): Big | undefined {
  const trimmed = text?.trim() ?? ''
  if (!DECIMAL.test(trimmed)) return undefined
  return new Big(trimmed.replace(/^\+/, ''))
}
