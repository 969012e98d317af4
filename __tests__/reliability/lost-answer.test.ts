// Writes that happened although the action never heard so: the emulator applies the request in
// full and then cuts the connection before the answer, on every write route. The step's retry
// meets its own applied write, and the step completes with one artifact and one version.
import { Reliability } from './harness.js'

let rel: Reliability
beforeAll(async () => {
  rel = await Reliability.start()
})
afterEach(() => {
  rel.emu.faults.clear()
  rel.emu.settings.modelUriMode = 'echo'
})
afterAll(async () => {
  await rel?.finish()
})

function scenario(prefix: string, modelPath?: string) {
  const { ws } = rel
  const runId = ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
  const model = ws.unique(prefix)
  const inputs = ws.inputs({
    'run-id': runId,
    'model-name': model,
    'model-path': modelPath ?? ws.model(`${prefix} bytes`)
  })
  return { runId, model, inputs }
}

describe('an applied write whose answer is lost', () => {
  test('artifact POST: the empty artifacts stay, the model lands at the next sibling path', async () => {
    const { runId, model, inputs } = scenario('lost-post')
    rel.emu.faults.add({ route: 'history.artifacts.metadata', kind: 'lost-answer', times: 1 })
    const done = await rel.gate(inputs)
    expect(done.error).toBeUndefined()
    expect(rel.emu.faults.stats()['history.artifacts.metadata']).toBe(1)
    expect(done.outputs).toMatchObject({
      registered: 'true',
      'artifact-uri': `azureml://jobs/${runId}/outputs/artifacts/paths/model.1.pkl`
    })
    expect((await rel.ws.emu.readArtifact(runId, 'model.1.pkl')).toString()).toBe('lost-post bytes')
    const again = await rel.gate(inputs)
    expect(again.outputs).toMatchObject({
      reason: 'already-registered',
      'model-version': done.outputs['model-version']
    })
    expect(rel.ws.versions(model)).toHaveLength(1)
  })

  test.each([
    ['blob.put', 0],
    ['blob.blocklist', 9 * 1024 * 1024]
  ])('%s: the bytes landed once, the model registers', async (route, size) => {
    const path = size > 0 ? rel.bigModel(size) : undefined
    const { runId, model, inputs } = scenario(`lost-${route.replace('.', '-')}`, path)
    rel.emu.faults.add({ route, kind: 'lost-answer', times: 1 })
    const done = await rel.gate(inputs)
    expect(done.error).toBeUndefined()
    expect(rel.emu.faults.stats()[route]).toBe(1)
    expect(done.outputs.registered).toBe('true')
    const landed = done.outputs['artifact-uri'].split('/paths/')[1]
    const expected = path ? size : Buffer.byteLength(`lost-${route.replace('.', '-')} bytes`)
    expect((await rel.ws.emu.artifactProperties(runId, landed))?.size).toBe(expected)
    expect(rel.ws.versions(model)).toHaveLength(1)
  })

  test.each(['echo', 'azure'] as const)(
    'model version PUT (modelUri mode %s): exactly one version, and the step reports it',
    async mode => {
      rel.emu.settings.modelUriMode = mode
      const { runId, model, inputs } = scenario(`lost-put-${mode}`)
      rel.emu.faults.add({ route: 'arm.model.version.put', kind: 'lost-answer', times: 1 })
      const done = await rel.gate(inputs)
      expect(done.error).toBeUndefined()
      expect(rel.emu.faults.stats()['arm.model.version.put']).toBeGreaterThanOrEqual(1)
      expect(done.outputs).toMatchObject({ registered: 'true', 'model-version': '1' })
      expect(rel.ws.versions(model).map(v => v.jobName)).toEqual([runId])
      const again = await rel.gate(inputs)
      expect(again.outputs).toMatchObject({ reason: 'already-registered', 'model-version': '1' })
    }
  )
})
