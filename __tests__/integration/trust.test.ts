import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
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
      'gate.run_id': run,
      'gate.artifact_path': 'model.pkl',
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

describe('the decision on the pull request', () => {
  /** A pull_request run of octo/repo for PR `number`, with the emulator's GitHub API. */
  function pullRequestEnv(number: number): Record<string, string> {
    const event = path.join(mkdtempSync(path.join(tmpdir(), 'gate-event-')), 'event.json')
    writeFileSync(
      event,
      JSON.stringify({ action: 'synchronize', number, pull_request: { number } })
    )
    return {
      ...GITHUB_ENV,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_REF: `refs/pull/${number}/merge`,
      GITHUB_API_URL: ws.emu.github.apiUrl
    }
  }
  const commentRoutes = () => ws.emu.requestLog.filter(e => e.route.startsWith('github.comments'))

  async function dryRun(model: string, accuracy: string, env: Record<string, string>, extra = {}) {
    const run = ws.addRun({ tags: { best_model: 'RF', accuracy } })
    return ws.gate(
      ws.inputs({
        'run-id': run,
        'model-name': model,
        'model-path': ws.model('m'),
        'dry-run': 'true',
        'github-token': ws.emu.github.token,
        ...extra
      }),
      env
    )
  }

  test('one comment per model, updated by the next run', async () => {
    const model = ws.unique('pr')
    ws.seedVersion(model, '1', { accuracy: '0.90' })
    const env = pullRequestEnv(12)
    const first = await dryRun(model, '0.95', env)
    expect(first.exitCode).toBe(0)
    expect(first.stdout).not.toMatch(/::warning::/)
    let comments = ws.emu.github.comments('octo', 'repo', 12)
    expect(comments).toHaveLength(1)
    const [comment] = comments
    expect(comment.body.split('\n')[0]).toBe(`<!-- azureml-model-gate: model=${model} -->`)
    expect(comment.body).toContain(`Dry run for ${model}: better`)
    expect(comment.body).toContain('| **Candidate** | not registered (dry run) | **0.95** |')
    expect(comment.body).toContain('| Champion | v1 | 0.90 |')
    expect(comment.body).toContain('https://github.com/octo/repo/actions/runs/987654/attempts/2')
    expect(comment.body).not.toContain('xychart-beta')

    const second = await dryRun(model, '0.85', env)
    expect(second.exitCode).toBe(0)
    comments = ws.emu.github.comments('octo', 'repo', 12)
    expect(comments).toHaveLength(1)
    expect(comments[0].id).toBe(comment.id)
    expect(comments[0].body).toContain(`Dry run for ${model}: not-better`)
    expect(comments[0].body).toContain('**0.85**')

    // Another model on the same pull request gets its own comment.
    const other = ws.unique('pr')
    expect((await dryRun(other, '0.9', env)).exitCode).toBe(0)
    comments = ws.emu.github.comments('octo', 'repo', 12)
    expect(comments.map(c => c.body.split('\n')[0])).toEqual([
      `<!-- azureml-model-gate: model=${model} -->`,
      `<!-- azureml-model-gate: model=${other} -->`
    ])
  })

  test('a throttled listing and a create whose answer was lost still leave one comment', async () => {
    const model = ws.unique('pr')
    ws.emu.faults.add([
      {
        route: 'github.comments.list',
        kind: 'status',
        status: 429,
        retryAfterSeconds: 0,
        times: 1
      },
      { route: 'github.comments.create', kind: 'lost-answer', times: 1 }
    ])
    try {
      const r = await dryRun(model, '0.9', pullRequestEnv(41))
      expect(r.exitCode).toBe(0)
      expect(r.stdout).not.toMatch(/^::warning/m)
      expect(ws.emu.faults.pending()).toEqual([])
      const comments = ws.emu.github.comments('octo', 'repo', 41)
      expect(comments).toHaveLength(1)
      expect(comments[0].body).toContain(`Dry run for ${model}: first`)
    } finally {
      ws.emu.faults.clear()
    }
  })

  test('the pull-request input names the pull request on any event', async () => {
    const model = ws.unique('pr')
    const env = { ...GITHUB_ENV, GITHUB_API_URL: ws.emu.github.apiUrl }
    const r = await dryRun(model, '0.9', env, { 'pull-request': '34' })
    expect(r.exitCode).toBe(0)
    expect(ws.emu.github.comments('octo', 'repo', 34)).toHaveLength(1)
  })

  test('an empty github-token opts out: no call, no warning', async () => {
    ws.emu.clearLog()
    const r = await dryRun(ws.unique('pr'), '0.9', pullRequestEnv(78), { 'github-token': '' })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).not.toMatch(/^::warning/m)
    expect(r.stdout).toMatch(/Input 'github-token' is empty/)
    expect(commentRoutes()).toEqual([])
  })

  test('no pull request, no GitHub call', async () => {
    ws.emu.clearLog()
    const r = await dryRun(ws.unique('pr'), '0.9', {
      ...GITHUB_ENV,
      GITHUB_API_URL: ws.emu.github.apiUrl
    })
    expect(r.exitCode).toBe(0)
    expect(ws.emu.requestLog.length).toBeGreaterThan(0)
    expect(commentRoutes()).toEqual([])
  })

  test('a token that may not comment (403): one warning, the step succeeds', async () => {
    const model = ws.unique('pr')
    ws.emu.github.setReadOnly(true)
    try {
      const r = await dryRun(model, '0.9', pullRequestEnv(56))
      expect(r.exitCode).toBe(0)
      expect(r.error).toBeUndefined()
      expect(r.outputs).toMatchObject({ reason: 'first', 'dry-run': 'true' })
      const warnings = r.stdout.split('\n').filter(line => line.startsWith('::warning'))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(
        /Could not comment on pull request #56: the token may not write to it \(403\)\. Give the job 'permissions: pull-requests: write'/
      )
      // Masked (the runner reads ::add-mask::), and printed nowhere else.
      const printed = r.stdout.replace(/^::add-mask::.*$/gm, '') + r.stderr
      expect(r.stdout).toContain(`::add-mask::${ws.emu.github.token}`)
      expect(printed).not.toContain(ws.emu.github.token)
      expect(ws.emu.github.comments('octo', 'repo', 56)).toHaveLength(0)
      expect(commentRoutes().some(e => e.status === 403)).toBe(true)
    } finally {
      ws.emu.github.setReadOnly(false)
    }
  })
})
