import path from 'node:path'
import { ACTION_ENTRY, runAction } from '../../scripts/action-runner.js'
import { TestWorkspace } from './workspace.js'

/** What the runner sets in a push workflow of octo/repo. */
const GITHUB_ENV = {
  GITHUB_REPOSITORY: 'octo/repo',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_WORKFLOW: 'Train and register',
  GITHUB_RUN_ID: '987654',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_ACTOR: 'mona',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_SERVER_URL: 'https://github.com'
}
const VERIFY_ENTRY = path.join(path.dirname(ACTION_ENTRY), 'verify.js')

let ws: TestWorkspace
beforeAll(async () => {
  ws = await TestWorkspace.start()
})
afterAll(async () => {
  await ws?.stop()
})

/** Registers a first version of a fresh model through the gate; returns its name. */
async function gated(env: Record<string, string> = {}, inputs: Record<string, string> = {}) {
  const model = ws.unique('trust')
  const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.95' } })
  const r = await ws.gate(
    ws.inputs({ 'run-id': run, 'model-name': model, 'model-path': ws.model('m'), ...inputs }),
    { ...GITHUB_ENV, ...env }
  )
  expect(r.error).toBeUndefined()
  expect(r.outputs.registered).toBe('true')
  return { model, run, outputs: r.outputs }
}

function verify(inputs: Record<string, string>, env: Record<string, string> = {}) {
  return runAction(
    ws.inputs(inputs),
    { NODE_EXTRA_CA_CERTS: ws.emu.caCertPath, ...GITHUB_ENV, ...env },
    { entry: VERIFY_ENTRY }
  )
}

describe('provenance on the registered version', () => {
  test('a first registration carries every property, as strings', async () => {
    const { model, run } = await gated({}, { properties: 'team=ml' })
    const [v1] = ws.versions(model)
    expect(v1.properties).toEqual({
      team: 'ml',
      accuracy: '0.95',
      model_type: 'RF',
      framework: 'ScikitLearn',
      'github.repository': 'octo/repo',
      'github.sha': GITHUB_ENV.GITHUB_SHA,
      'github.ref': 'refs/heads/main',
      'github.workflow': 'Train and register',
      'github.run_id': '987654',
      'github.run_attempt': '2',
      'github.run_url': 'https://github.com/octo/repo/actions/runs/987654/attempts/2',
      'github.actor': 'mona',
      'github.event_name': 'push',
      'gate.reason': 'first',
      'gate.metric': 'accuracy',
      'gate.rule': 'higher-is-better; min-improvement 0',
      'gate.champion_version': '',
      'gate.champion_value': ''
    })
    expect(v1.tags).toMatchObject({ gate_reason: 'first' })
    expect(v1.jobName).toBe(run)
  })

  test('a better version names its champion and the rule', async () => {
    const model = ws.unique('trust')
    ws.seedVersion(model, '1', { accuracy: '0.900' })
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.95' } })
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        'min-improvement': '0.005'
      }),
      GITHUB_ENV
    )
    expect(r.outputs.reason).toBe('better')
    const v2 = ws.versions(model).find(v => v.version === '2')
    expect(v2?.properties).toMatchObject({
      'gate.reason': 'better',
      'gate.rule': 'higher-is-better; min-improvement 0.005',
      'gate.champion_version': '1',
      'gate.champion_value': '0.900'
    })
  })

  test('the properties input may not set them: one line, nothing written', async () => {
    const model = ws.unique('trust')
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy: '0.95' } })
    const before = ws.emu.requestLog.length
    const r = await ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        properties: 'gate.reason=better'
      }),
      GITHUB_ENV
    )
    expect(r.exitCode).toBe(1)
    expect(r.error).toMatch(/^Input 'properties': 'gate\.reason' is recorded by the gate itself/)
    expect(ws.emu.requestLog.length).toBe(before)
    expect(ws.versions(model)).toHaveLength(0)
  })
})

describe('verify', () => {
  test('passes a version the gate registered, with its outputs', async () => {
    const { outputs } = await gated()
    const r = await verify({ 'model-uri': outputs['model-uri'] })
    expect(r.error).toBeUndefined()
    expect(r.exitCode).toBe(0)
    expect(r.outputs).toEqual({
      verified: 'true',
      'model-uri': outputs['model-uri'],
      reason: 'first',
      'github-run-url': 'https://github.com/octo/repo/actions/runs/987654/attempts/2',
      sha: GITHUB_ENV.GITHUB_SHA
    })
    const byName = await verify({
      'model-name': outputs['model-name'],
      'model-version': outputs['model-version'],
      ref: 'refs/heads/main'
    })
    expect(byName.outputs.verified).toBe('true')
  })

  test('fails a version registered by hand', async () => {
    const model = ws.unique('hand')
    ws.seedVersion(model, '7', { accuracy: '0.99' })
    const r = await verify({ 'model-uri': `azureml:${model}:7` })
    expect(r.exitCode).toBe(1)
    expect(r.error).toBe(
      `Version 7 of ${model} was registered by hand: it has no gate.reason property`
    )
    expect(r.outputs).toMatchObject({
      verified: 'false',
      'model-uri': `azureml:${model}:7`,
      reason: ''
    })
  })

  test('fails a forced version unless forced is allowed', async () => {
    const { model, outputs } = await gated({}, { force: 'true' })
    const r = await verify({ 'model-uri': outputs['model-uri'] })
    expect(r.exitCode).toBe(1)
    expect(r.error).toBe(
      `Version 1 of ${model} was registered with reason 'forced', which allowed-reasons (first, better) does not list`
    )
    expect(r.outputs).toMatchObject({ verified: 'false', reason: 'forced' })
    const allowed = await verify({
      'model-uri': outputs['model-uri'],
      'allowed-reasons': 'first,better,forced'
    })
    expect(allowed.exitCode).toBe(0)
    expect(allowed.outputs.verified).toBe('true')
  })

  test('fails a version from another repository (and another ref)', async () => {
    const { model, outputs } = await gated({
      GITHUB_REPOSITORY: 'mallory/fork',
      GITHUB_REF: 'refs/heads/dev'
    })
    const r = await verify({ 'model-uri': outputs['model-uri'], ref: 'refs/heads/main' })
    expect(r.exitCode).toBe(1)
    expect(r.error).toBe(
      `Version 1 of ${model} was registered from repository mallory/fork, not octo/repo; ` +
        `Version 1 of ${model} was registered from ref refs/heads/dev, not refs/heads/main`
    )
    expect(r.outputs.verified).toBe('false')
    const named = await verify({ 'model-uri': outputs['model-uri'], repository: 'mallory/fork' })
    expect(named.outputs.verified).toBe('true')
  })

  test('a missing version and a bad input fail with one line', async () => {
    const missing = await verify({ 'model-uri': `azureml:${ws.unique('none')}:3` })
    expect(missing.exitCode).toBe(1)
    expect(missing.error).toMatch(/^Version 3 of none-\d+ was not found in workspace/)
    expect(missing.outputs.verified).toBe('false')
    const bad = await verify({ 'model-uri': 'iris:3' })
    expect(bad.exitCode).toBe(1)
    expect(bad.error).toMatch(/^Input 'model-uri': 'iris:3' is not azureml:<name>:<version>/)
  })
})
