import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { findMlmodel, readMlflowFlavors } from '../../src/mlmodel.js'
import { listModelFiles } from '../../src/modelfiles.js'

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlmodel-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), text)
  }
  return dir
}

// As the action does: the folder is checked with the inputs, the YAML read after them.
const flavorsOf = async (dir: string) =>
  readMlflowFlavors('model-path', findMlmodel('model-path', listModelFiles('model-path', dir), dir))

describe('readMlflowFlavors', () => {
  test('FlavorData per flavor: strings kept, scalars as text, nested values as JSON, nulls left out', async () => {
    const dir = folder({
      MLmodel:
        'flavors:\n  sklearn:\n    sklearn_version: 1.3.0\n    code: null\n    n: 3\n    ok: true\n  python_function:\n    env: {conda: conda.yaml}\n',
      'model.pkl': 'x'
    })
    expect(await flavorsOf(dir)).toEqual({
      sklearn: { data: { sklearn_version: '1.3.0', n: '3', ok: 'true' } },
      python_function: { data: { env: '{"conda":"conda.yaml"}' } }
    })
  })

  test('MLmodel must be at the top of the folder', async () => {
    await expect(flavorsOf(folder({ 'sub/MLmodel': 'flavors: {a: {}}' }))).rejects.toThrow(
      /^Input 'model-path': asset-type mlflow_model needs an MLmodel file at the top of/
    )
  })

  test('invalid YAML is named as such, in one line', async () => {
    let message = ''
    try {
      await flavorsOf(folder({ MLmodel: 'flavors: [unclosed' }))
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/^Input 'model-path': the MLmodel file in '.*' is not valid YAML/)
    expect(message).not.toContain('\n')
  })
})
