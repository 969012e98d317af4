import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'

/**
 * The contracts/ JSON Schemas, loaded once, by name: `arm/model-version.put.request` is
 * contracts/arm/model-version.put.request.schema.json. Every schema is registered, so `$ref`s
 * between them resolve.
 */
const ROOT = fileURLToPath(new URL('../../contracts/', import.meta.url))
const BASE = 'https://schemas.azureml-model-gate.invalid/'

function schemaFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry =>
    entry.isDirectory()
      ? schemaFiles(path.join(dir, entry.name))
      : entry.name.endsWith('.schema.json')
        ? [path.join(dir, entry.name)]
        : []
  )
}

let ajv: Ajv | undefined

function compiler(): Ajv {
  if (ajv) return ajv
  // strict: unknown keywords are mistakes, except the spec-citing `x-inferred` marker.
  ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, keywords: ['x-inferred'] })
  ajv.addFormat(
    'date-time',
    value => !Number.isNaN(Date.parse(value)) && /^\d{4}-\d\d-\d\dT/.test(value)
  )
  ajv.addFormat('uri', value => URL.canParse(value))
  for (const file of schemaFiles()) ajv.addSchema(JSON.parse(readFileSync(file, 'utf8')))
  return ajv
}

/** Every schema name under contracts/, e.g. `history/run`. */
export function schemaNames(): string[] {
  return schemaFiles()
    .map(file =>
      path
        .relative(ROOT, file)
        .split(path.sep)
        .join('/')
        .replace(/\.schema\.json$/, '')
    )
    .sort()
}

export function validator(name: string): ValidateFunction {
  const validate = compiler().getSchema(`${BASE}${name}.schema.json`)
  if (!validate) throw new Error(`No schema contracts/${name}.schema.json`)
  return validate
}

/** Readable errors ('/properties/modelUri must be string'), or [] when the value conforms. */
export function violations(name: string, value: unknown): string[] {
  const validate = validator(name)
  return validate(value) ? [] : (validate.errors ?? []).map(describe)
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '(root)'
  const extra =
    error.keyword === 'additionalProperties'
      ? ` '${(error.params as { additionalProperty: string }).additionalProperty}'`
      : ''
  return `${where} ${error.message ?? error.keyword}${extra}`
}
