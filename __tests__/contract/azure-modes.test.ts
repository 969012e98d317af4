// The emulator's switches for what Azure may do and the specs leave open: a modelUri stored in
// another form than sent, $top read as a page size or as a cap, an api-version it does not
// serve. The built action must be right under each reading.
import { TestWorkspace } from '../integration/workspace.js'
import { armUrl, bearer, call } from '../emulator/helpers.js'
import { violations } from './schemas.js'

let ws: TestWorkspace
beforeAll(async () => {
  ws = await TestWorkspace.start({ trustInProcess: true })
})
afterAll(async () => {
  await ws?.stop()
})
afterEach(() => {
  ws.emu.settings.modelUriMode = 'echo'
  ws.emu.settings.topReading = 'page'
})

describe('modelUri rewritten by the service', () => {
  test('first registration reports registered=true, and the re-run finds its version', async () => {
    ws.emu.settings.modelUriMode = 'azure'
    const runId = ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
    const model = ws.unique('normalised')
    const inputs = ws.inputs({
      'run-id': runId,
      'model-name': model,
      'model-path': ws.model('normalised bytes')
    })
    const first = await ws.gate(inputs)
    expect(first.error).toBeUndefined()
    expect(first.outputs).toMatchObject({
      registered: 'true',
      reason: 'first',
      'model-version': '1'
    })
    const [stored] = ws.versions(model)
    // Stored in another form than sent: the action must not have relied on the echo.
    expect(stored.modelUri).toMatch(
      new RegExp(
        `^azureml://subscriptions/.*/datastores/workspaceartifactstore/paths/ExperimentRun/dcid\\.${runId}/model\\.pkl$`
      )
    )
    expect(stored.properties).toMatchObject({
      'gate.run_id': runId,
      'gate.artifact_path': 'model.pkl'
    })
    const again = await ws.gate(inputs)
    expect(again.error).toBeUndefined()
    expect(again.outputs).toMatchObject({
      registered: 'true',
      reason: 'already-registered',
      'model-version': '1'
    })
    expect(ws.versions(model)).toHaveLength(1)
  })
})

describe.each(['page', 'cap'] as const)('$top read as a %s', reading => {
  /** 25 versions: v1 (oldest) scores best; only `scored` of the newer ones have a score. */
  function seed(model: string, scored: boolean) {
    const at = (i: number) => new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString()
    ws.seedVersion(model, '1', { accuracy: '0.99' }, { createdAt: at(1) })
    for (let i = 2; i <= 25; i++) {
      ws.seedVersion(model, String(i), scored ? { accuracy: '0.50' } : {}, { createdAt: at(i) })
    }
  }

  test('compare-to best finds the oldest version, beyond the first 20', async () => {
    ws.emu.settings.topReading = reading
    const model = ws.unique(`best-${reading}`)
    seed(model, true)
    const run = await ws.gate(
      ws.inputs({
        'run-id': ws.addRun({ tags: { accuracy: '0.90', best_model: 'RF' } }),
        'model-name': model,
        'model-path': ws.model('best bytes'),
        'compare-to': 'best'
      })
    )
    expect(run.error).toBeUndefined()
    expect(run.outputs).toMatchObject({ registered: 'false', 'champion-version': '1' })
  })

  test('compare-to latest reads past 20 unscored versions to the newest scored one', async () => {
    ws.emu.settings.topReading = reading
    const model = ws.unique(`latest-${reading}`)
    seed(model, false)
    const run = await ws.gate(
      ws.inputs({
        'run-id': ws.addRun({ tags: { accuracy: '0.90', best_model: 'RF' } }),
        'model-name': model,
        'model-path': ws.model('latest bytes')
      })
    )
    expect(run.error).toBeUndefined()
    expect(run.outputs).toMatchObject({ registered: 'false', 'champion-version': '1' })
  })
})

describe('ARM api-version', () => {
  test('one the emulator does not serve is refused as ARM refuses it', async () => {
    const token = await bearer(ws.emu)
    const url = armUrl(ws.emu, '').replace('api-version=2022-10-01', 'api-version=2024-10-01')
    const res = await call(url, { token })
    expect(res.status).toBe(400)
    expect(violations('arm/error-response', res.json)).toEqual([])
    expect(res.json).toMatchObject({ error: { code: 'NoRegisteredProviderFound' } })
    expect((res.json as { error: { message: string } }).error.message).toMatch(
      /API version '2024-10-01' for type 'workspaces'\. The supported api-versions are '2022-10-01'/
    )
    const served = await call(armUrl(ws.emu, ''), { token })
    expect(served.status).toBe(200)
  })

  test('the action fails loudly, naming the code, when ARM no longer serves its version', async () => {
    ws.emu.settings.armApiVersions = ['2024-10-01']
    try {
      const run = await ws.gate(
        ws.inputs({
          'run-id': ws.addRun({ tags: { accuracy: '0.9' } }),
          'model-name': ws.unique('apiv'),
          'model-path': ws.model('x')
        })
      )
      expect(run.exitCode).toBe(1)
      expect(run.error).toMatch(/NoRegisteredProviderFound/)
    } finally {
      ws.emu.settings.armApiVersions = ['2022-10-01']
    }
  })
})
