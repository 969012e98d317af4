import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { InputError } from './errors.js'
import type { ModelFiles } from './modelfiles.js'

/** ARM FlavorData by flavor name: what no-code deployment of an MLflow model reads. */
export type Flavors = Record<string, { data: Record<string, string> }>

/**
 * The flavors of an MLflow model folder, from its MLmodel file (YAML), in the ModelVersion
 * `flavors` shape. azure-ai-ml, too, refuses mlflow_model for anything but a folder.
 */
export function readMlflowFlavors(input: string, model: ModelFiles, shown: string): Flavors {
  const fix = "point model-path at the folder mlflow's save_model wrote, or set asset-type"
  if (model.kind !== 'folder') {
    throw new InputError(
      input,
      `asset-type mlflow_model needs a folder, and '${shown}' is a file; ${fix}`
    )
  }
  const file = model.files.find(f => f.relativePath === 'MLmodel')
  if (!file) {
    throw new InputError(
      input,
      `asset-type mlflow_model needs an MLmodel file at the top of '${shown}', and it has none; ${fix}`
    )
  }
  let doc: unknown
  try {
    doc = parse(readFileSync(file.absolutePath, 'utf8'))
  } catch (error) {
    const why = (error as Error).message.split('\n')[0]
    throw new InputError(input, `the MLmodel file in '${shown}' is not valid YAML (${why}); ${fix}`)
  }
  const flavors = isMap(doc) ? doc.flavors : undefined
  if (!isMap(flavors) || Object.keys(flavors).length === 0) {
    throw new InputError(input, `the MLmodel file in '${shown}' lists no flavors; ${fix}`)
  }
  return Object.fromEntries(
    Object.entries(flavors).map(([name, data]) => [name, { data: flavorData(data) }])
  )
}

/** FlavorData.data maps strings to strings: scalars as text, nested values as JSON. */
function flavorData(data: unknown): Record<string, string> {
  if (!isMap(data)) return {}
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(data)) {
    if (value === null || value === undefined) continue
    out[key] = typeof value === 'object' ? JSON.stringify(value) : String(value)
  }
  return out
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
