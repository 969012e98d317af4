// Every request the built action sends and every answer the emulator gives, checked against
// contracts/ (schemas from the published specs): a first registration, a re-run, a folder model
// of more than one artifact batch, an MLflow model, and a model that was never registered.
import { TestWorkspace } from '../integration/workspace.js'
import { logViolations } from './routes.js'

let ws: TestWorkspace
beforeAll(async () => {
  ws = await TestWorkspace.start({ logBodies: true })
})
afterAll(async () => {
  await ws?.stop()
})
afterEach(() => {
  ws.emu.settings.modelUriMode = 'echo'
})

async function gate(overrides: Record<string, string>) {
  const mark = ws.emu.requestLog.length
  const run = await ws.gate(ws.inputs(overrides))
  return { run, log: ws.emu.requestLog.slice(mark) }
}

describe('traffic conforms to contracts/', () => {
  test('first registration and its re-run (single file)', async () => {
    const inputs = {
      'run-id': ws.addRun({ tags: { accuracy: '0.91', best_model: 'RF' } }),
      'model-name': ws.unique('contract'),
      'model-path': ws.model('contract bytes')
    }
    const first = await gate(inputs)
    expect(first.run.error).toBeUndefined()
    expect(first.run.outputs.registered).toBe('true')
    const again = await gate(inputs)
    expect(again.run.outputs.reason).toBe('already-registered')
    expect(first.log.some(e => e.route === 'arm.model.version.put')).toBe(true)
    expect(logViolations(first.log)).toEqual([])
    expect(logViolations(again.log)).toEqual([])
    // The re-run's artifact call was refused per path: the errors map was really checked.
    const refused = again.log.find(e => e.route === 'history.artifacts.metadata')
    expect(Object.keys((refused?.responseBody as { errors: object }).errors)).toEqual(['model.pkl'])
    // Every ARM call used the api-version the emulator serves, as Azure's published spec does.
    expect(new Set(first.log.filter(e => e.apiVersion).map(e => e.apiVersion))).toEqual(
      new Set(['2022-10-01'])
    )
  })

  test('a folder of 120 files: three artifact calls of at most 50 paths', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 120 }, (_, i) => [
        `weights/part-${String(i).padStart(3, '0')}.bin`,
        `w${i}`
      ])
    )
    const { run, log } = await gate({
      'run-id': ws.addRun({ tags: { accuracy: '0.92', best_model: 'MLP' } }),
      'model-name': ws.unique('folder'),
      'model-path': ws.model(files)
    })
    expect(run.error).toBeUndefined()
    const calls = log.filter(e => e.route === 'history.artifacts.metadata')
    // The folder's files 50 at a time, then its manifest once every file has landed.
    expect(calls.map(e => (e.requestBody as { paths: unknown[] }).paths.length)).toEqual([
      50, 50, 20, 1
    ])
    expect((calls[3].requestBody as { paths: { path: string }[] }).paths[0].path).toMatch(
      /\.gate-manifest\.json$/
    )
    expect(logViolations(log)).toEqual([])
  })

  test('an MLflow model sends the flavors of its MLmodel file', async () => {
    const mlmodel = [
      'artifact_path: model',
      'flavors:',
      '  python_function:',
      '    env:',
      '      conda: conda.yaml',
      '    loader_module: mlflow.sklearn',
      '    python_version: 3.10.12',
      '  sklearn:',
      '    pickled_model: model.pkl',
      '    serialization_format: cloudpickle',
      '    sklearn_version: 1.3.0',
      '    code: null',
      'mlflow_version: 2.9.2'
    ].join('\n')
    const { run, log } = await gate({
      'run-id': ws.addRun({ tags: { accuracy: '0.93', best_model: 'RF' } }),
      'model-name': ws.unique('mlflow'),
      'model-path': ws.model({ MLmodel: mlmodel, 'model.pkl': 'pickled', 'conda.yaml': 'name: x' }),
      'asset-type': 'mlflow_model'
    })
    expect(run.error).toBeUndefined()
    const put = log.find(e => e.route === 'arm.model.version.put')!
    expect((put.requestBody as { properties: { flavors: unknown } }).properties.flavors).toEqual({
      python_function: {
        data: {
          env: '{"conda":"conda.yaml"}',
          loader_module: 'mlflow.sklearn',
          python_version: '3.10.12'
        }
      },
      sklearn: {
        data: {
          pickled_model: 'model.pkl',
          serialization_format: 'cloudpickle',
          sklearn_version: '1.3.0'
        }
      }
    })
    expect((put.requestBody as { properties: { modelType: string } }).properties.modelType).toBe(
      'mlflow_model'
    )
    expect(logViolations(log)).toEqual([])
  })

  test.each([
    ['a folder without MLmodel', { 'model.pkl': 'x' }, /needs an MLmodel file at the top of/],
    ['a single file', 'just a pickle', /needs a folder, and '.*' is a file/],
    ['an MLmodel without flavors', { MLmodel: 'artifact_path: model' }, /lists no flavors/]
  ])('mlflow_model with %s: a one-line input error, nothing written', async (_, content, why) => {
    const { run, log } = await gate({
      'run-id': ws.addRun({ tags: { accuracy: '0.93', best_model: 'RF' } }),
      'model-name': ws.unique('no-mlmodel'),
      'model-path': ws.model(content),
      'asset-type': 'mlflow_model'
    })
    expect(run.exitCode).toBe(1)
    expect(run.error).toMatch(
      /^Input 'model-path': asset-type mlflow_model|^Input 'model-path': the MLmodel/
    )
    expect(run.error).toMatch(why)
    expect(run.error).not.toContain('\n')
    expect(log).toEqual([])
  })

  test('with Azure rewriting modelUri, the traffic still conforms', async () => {
    ws.emu.settings.modelUriMode = 'azure'
    const { run, log } = await gate({
      'run-id': ws.addRun({ tags: { accuracy: '0.94', best_model: 'RF' } }),
      'model-name': ws.unique('rewritten'),
      'model-path': ws.model('rewritten bytes')
    })
    expect(run.outputs.registered).toBe('true')
    expect(logViolations(log)).toEqual([])
  })

  test('error answers (a model never registered, a missing run) conform too', async () => {
    const { run, log } = await gate({
      'run-id': 'no-such-run',
      'model-name': ws.unique('missing'),
      'model-path': ws.model('x')
    })
    expect(run.exitCode).toBe(1)
    expect(log.filter(e => e.status === 404).map(e => e.route)).toEqual(
      expect.arrayContaining(['arm.job.get', 'arm.model.container.get'])
    )
    expect(logViolations(log)).toEqual([])
  })
})
