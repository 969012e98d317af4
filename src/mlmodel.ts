import { readFileSync } from 'node:fs'
import { InputError } from './errors.js'
import type { ModelFiles } from './modelfiles.js'

/** ARM FlavorData by flavor name: what no-code deployment of an MLflow model reads. */
export type Flavors = Record<string, { data: Record<string, string> }>

/** Where an mlflow_model's MLmodel file is, and how the model-path input named the folder. */
export interface MlmodelFile {
  path: string
  shown: string
}

const FIX = "point model-path at the folder mlflow's save_model wrote, or set asset-type"

/**
 * Checked with the other inputs: an mlflow_model is a folder with an MLmodel file at its top.
 * azure-ai-ml, too, refuses mlflow_model for anything but a folder.
 */
export function findMlmodel(input: string, model: ModelFiles, shown: string): MlmodelFile {
  if (model.kind !== 'folder') {
    throw new InputError(
      input,
      `asset-type mlflow_model needs a folder, and '${shown}' is a file; ${FIX}`
    )
  }
  const file = model.files.find(f => f.relativePath === 'MLmodel')
  if (!file) {
    throw new InputError(
      input,
      `asset-type mlflow_model needs an MLmodel file at the top of '${shown}', and it has none; ${FIX}`
    )
  }
  return { path: file.absolutePath, shown }
}

/**
 * The flavors of an MLflow model folder, from its MLmodel file (YAML), in the ModelVersion
 * `flavors` shape. The YAML parser loads only here, so that other models do not pay for it at
 * start-up.
 */
export async function readMlflowFlavors(input: string, mlmodel: MlmodelFile): Promise<Flavors> {
  const { shown } = mlmodel
  const fix = FIX
  // yaml is CommonJS: imported lazily (bundled or not), its functions are on the default export.
  const { parse } = (await import('yaml')).default
  let doc: unknown
  try {
    doc = parse(readFileSync(mlmodel.path, 'utf8'))
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
