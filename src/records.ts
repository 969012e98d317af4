/**
 * Tags and properties are maps of names the user chose: 'constructor' or 'toString' must find
 * the run's own entry or nothing, never a member every JavaScript object inherits.
 */
export function ownValue(
  record: Readonly<Record<string, unknown>> | null | undefined,
  key: string
): string | undefined {
  if (!record || !Object.hasOwn(record, key)) return undefined
  const value = record[key]
  return value === null || value === undefined ? undefined : String(value)
}

/** A map with no inherited members at all, so that `key in map` means an own entry. */
export function stringMap(
  record: Readonly<Record<string, unknown>> | null | undefined
): Record<string, string> {
  const result: Record<string, string> = Object.create(null)
  for (const [key, value] of Object.entries(record ?? {})) {
    if (value !== null && value !== undefined) result[key] = String(value)
  }
  return result
}
