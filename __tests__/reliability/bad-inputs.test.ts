// Every kind of bad input fails before the first write, with its own one-line error, exit code 1
// and no stack trace (a stack only with step debug logging on).
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Reliability, STACK_FRAME, writesIn, type GateRun } from './harness.js'

let rel: Reliability
let goodRun: string
let goodModel: string
beforeAll(async () => {
  rel = await Reliability.start()
  goodRun = rel.ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
  goodModel = rel.ws.model('good model')
})
afterAll(async () => {
  await rel?.finish()
})

interface Case {
  name: string
  inputs: Record<string, string | undefined>
  error: RegExp
}

/** The message as the runner shows it: workflow commands escape %, CR and LF. */
function shown(run: GateRun): string | undefined {
  return run.error?.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/** One line, exit 1, no stack: what a person sees for a mistake of theirs. */
function expectOneLineError(run: GateRun, error: RegExp) {
  expect(run.exitCode).toBe(1)
  expect(shown(run)).toMatch(error)
  expect(shown(run)).not.toMatch(/\n/)
  expect(run.stdout.match(/^::error::/gm)).toHaveLength(1)
  expect(run.stdout + run.stderr).not.toMatch(STACK_FRAME)
}

/** Runs the cases a few at a time: they are independent child processes. */
async function runCases(cases: Case[], model: string): Promise<GateRun[]> {
  const results: GateRun[] = []
  for (let i = 0; i < cases.length; i += 4) {
    const batch = cases.slice(i, i + 4)
    results.push(
      ...(await Promise.all(
        batch.map(c =>
          rel.gate(
            rel.ws.inputs({
              'run-id': goodRun,
              'model-name': model,
              'model-path': goodModel,
              ...c.inputs
            })
          )
        )
      ))
    )
  }
  rel.tally.badInputs += cases.length
  return results
}

function credentials(fields: Record<string, unknown>): string {
  const client = rel.ws.secretClient
  return JSON.stringify({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    tenantId: rel.emu.tenantId,
    ...fields
  })
}

test('invalid inputs: each has its own one-line error, and nothing is even read', async () => {
  const dir = path.dirname(rel.ws.model('x'))
  const emptyFile = path.join(dir, 'empty.pkl')
  writeFileSync(emptyFile, '')
  const emptyFolder = path.join(dir, 'empty-folder')
  mkdirSync(emptyFolder)
  const loopFolder = path.join(dir, 'loop-folder')
  mkdirSync(path.join(loopFolder, 'weights'), { recursive: true })
  writeFileSync(path.join(loopFolder, 'weights', 'model.pkl'), 'w')
  symlinkSync('..', path.join(loopFolder, 'weights', 'again'))
  const loopLink = path.join(dir, 'loop-link')
  symlinkSync('loop-link', loopLink)
  const decisionDir = path.join(dir, 'decisions')
  mkdirSync(decisionDir)
  const unreadable = path.join(dir, 'unreadable.pkl')
  writeFileSync(unreadable, 'secret weights')
  chmodSync(unreadable, 0o000)

  const invalid = (input: string, value: string, error: RegExp): Case => ({
    name: `${input}: ${value}`,
    inputs: { [input]: value },
    error
  })
  const missing = (input: string): Case => ({
    name: `${input} missing`,
    inputs: { [input]: undefined },
    error: new RegExp(`^Input '${input}': required; add '${input}:' under 'with:'$`)
  })
  const cases: Case[] = [
    missing('resource-group'),
    missing('workspace-name'),
    missing('run-id'),
    missing('model-name'),
    {
      name: 'subscription-id nowhere',
      inputs: { 'azure-credentials': credentials({}) },
      error: /^Input 'subscription-id': required; set it, or include subscriptionId/
    },
    invalid(
      'model-name',
      'iris classifier!',
      /^Input 'model-name': 'iris classifier!' is not a valid model name/
    ),
    invalid('model-name', '-starts-with-dash', /^Input 'model-name': .* is not a valid model name/),
    invalid('model-name', 'm'.repeat(256), /^Input 'model-name': .* is not a valid model name/),
    invalid('run-id', 'run id', /^Input 'run-id': 'run id' is not a valid job name/),
    invalid(
      'higher-is-better',
      'yes',
      /^Input 'higher-is-better': 'yes' is not a boolean; use true or false$/
    ),
    invalid('force', '1', /^Input 'force': '1' is not a boolean/),
    invalid('dry-run', 'maybe', /^Input 'dry-run': 'maybe' is not a boolean/),
    invalid('fail-if-not-better', 'on', /^Input 'fail-if-not-better': 'on' is not a boolean/),
    invalid('min-improvement', 'abc', /^Input 'min-improvement': 'abc' is not a decimal number/),
    invalid(
      'min-improvement',
      '-0.01',
      /^Input 'min-improvement': must be 0 or more, got '-0.01'$/
    ),
    invalid(
      'min-relative-improvement',
      '1%',
      /^Input 'min-relative-improvement': '1%' is not a decimal number/
    ),
    invalid(
      'min-relative-improvement',
      '-1',
      /^Input 'min-relative-improvement': must be 0 or more/
    ),
    invalid('threshold', 'high', /^Input 'threshold': 'high' is not a decimal number/),
    invalid('threshold', 'NaN', /^Input 'threshold': 'NaN' is not a decimal number/),
    invalid('threshold', 'Infinity', /^Input 'threshold': 'Infinity' is not a decimal number/),
    invalid('wait-minutes', 'ten', /^Input 'wait-minutes': 'ten' is not a decimal number/),
    invalid('wait-minutes', '-5', /^Input 'wait-minutes': must be 0 or more/),
    invalid(
      'compare-to',
      'newest',
      /^Input 'compare-to': 'newest' is not latest, best or tag:KEY=VALUE/
    ),
    invalid('compare-to', 'tag:stage', /^Input 'compare-to': 'tag:stage' is not latest, best/),
    invalid(
      'asset-type',
      'onnx_model',
      /^Input 'asset-type': 'onnx_model' is not one of custom_model, mlflow_model, triton_model$/
    ),
    invalid('cloud', 'AzureMars', /^Input 'cloud': 'AzureMars' is not one of/),
    invalid(
      'artifact-path',
      '/abs/model.pkl',
      /^Input 'artifact-path': '\/abs\/model.pkl' must be a relative path inside the run/
    ),
    invalid(
      'artifact-path',
      '../model.pkl',
      /^Input 'artifact-path': '..\/model.pkl' must be a relative path/
    ),
    invalid(
      'artifact-path',
      'outputs/../../model.pkl',
      /^Input 'artifact-path': .* must be a relative path/
    ),
    invalid(
      'artifact-path',
      'C:\\models\\model.pkl',
      /^Input 'artifact-path': .* must be a relative path/
    ),
    invalid(
      'model-path',
      path.join(dir, 'missing.pkl'),
      /^Input 'model-path': '.*missing.pkl' does not exist/
    ),
    invalid('model-path', emptyFile, /^Input 'model-path': model file '.*empty.pkl' is empty/),
    invalid(
      'model-path',
      emptyFolder,
      /^Input 'model-path': model folder '.*empty-folder' has no files/
    ),
    invalid(
      'model-path',
      loopFolder,
      /^Input 'model-path': model folder '.*loop-folder' contains a symlink loop: 'weights\/again' leads back to/
    ),
    invalid('model-path', loopLink, /^Input 'model-path': '.*loop-link' is a symlink loop/),
    invalid(
      'azure-credentials',
      '{"clientId": "x", ',
      /^Input 'azure-credentials': is not valid JSON/
    ),
    invalid(
      'azure-credentials',
      '{"clientId": "x"}',
      /^Input 'azure-credentials': is missing clientSecret, tenantId;/
    ),
    invalid(
      'azure-credentials',
      credentials({ clientSecret: '' }),
      /^Input 'azure-credentials': is missing clientSecret;/
    ),
    invalid('tags', 'team', /^Input 'tags': line 'team' is not key=value$/),
    invalid(
      'tags',
      '{"team": {"name": "ml"}}',
      /^Input 'tags': value of 'team' must be a string, number or boolean$/
    ),
    invalid('tags', '{"team": "ml",', /^Input 'tags': is not valid JSON/),
    invalid('properties', '=value', /^Input 'properties': has an empty key; use key=value$/),
    invalid(
      'guardrails',
      'f1 >= 0.8\nlatency_ms <= champ * 1.1',
      /^Input 'guardrails': line 2 'latency_ms <= champ \* 1\.1' is not NAME OP BOUND, where OP is >=, <=, > or < and BOUND is a decimal, champion, champion \+ D, champion - D or champion \* D/
    ),
    invalid(
      'guardrails',
      'f1 == 0.8',
      /^Input 'guardrails': line 1 'f1 == 0.8' is not NAME OP BOUND/
    ),
    invalid(
      'properties',
      '["a", "b"]',
      /^Input 'properties': must be a JSON object or key=value lines$/
    ),
    {
      name: 'client-id without tenant-id',
      inputs: { 'azure-credentials': undefined, 'client-id': rel.ws.secretClient.clientId },
      error: /^Input 'tenant-id': required with 'client-id' for OIDC sign-in/
    },
    invalid(
      'arm-endpoint',
      'http://management.azure.com',
      /^Input 'arm-endpoint': .* must use https$/
    ),
    invalid('authority-host', 'login host', /^Input 'authority-host': 'login host' is not a URL/),
    invalid(
      'decision-file',
      decisionDir,
      /^Input 'decision-file': '.*decisions' is a folder; name a file/
    )
  ]
  // Root reads any file whatever its mode: the check runs on CI's unprivileged runner user.
  if (process.getuid?.() !== 0)
    cases.push(
      invalid('model-path', unreadable, /^Input 'model-path': '.*unreadable.pkl' is not readable/)
    )

  const model = rel.ws.unique('bad-input')
  const mark = rel.emu.requestLog.length
  const state = JSON.stringify(rel.emu.state.data)
  const results = await runCases(cases, model)
  cases.forEach((c, i) => {
    // The case's name makes a failure say which input it was.
    expect({ case: c.name, error: shown(results[i]) }).toEqual({
      case: c.name,
      error: expect.stringMatching(c.error)
    })
    expectOneLineError(results[i], c.error)
  })
  // Every input is checked before any call: not a token request, let alone a write.
  expect(rel.emu.requestLog.slice(mark)).toEqual([])
  expect(JSON.stringify(rel.emu.state.data)).toBe(state)
})

test('runs and tags that cannot be gated fail after reading, before any write', async () => {
  const { ws } = rel
  const run = (tags: Record<string, string>, extra: { status?: string } = {}) =>
    ws.addRun({ tags, ...extra })
  const running = run({ accuracy: '0.9' }, { status: 'Running' })
  const failed = run({ accuracy: '0.9' }, { status: 'Failed' })
  const canceled = run({ accuracy: '0.9' }, { status: 'Canceled' })
  const stepped = ws.addRun({ children: [{ displayName: 'train', tags: { accuracy: '0.9' } }] })
  const scored = ws.unique('bad-run-scored')
  ws.seedVersion(scored, '1', { accuracy: '0.8' })
  const unscored = ws.unique('bad-run-unscored')
  ws.seedVersion(unscored, '1', { accuracy: '1e-99999999' })
  const cases: Case[] = [
    {
      name: 'unknown run',
      inputs: { 'run-id': 'no-such-run' },
      error: new RegExp(
        `^Run 'no-such-run' was not found in workspace '${ws.emu.workspaceName}'; check run-id`
      )
    },
    {
      name: 'unknown workspace',
      inputs: { 'workspace-name': 'no-such-ws' },
      error: /^Workspace 'no-such-ws' was not found in resource group 'rg-ml'/
    },
    {
      name: 'unknown resource group',
      inputs: { 'resource-group': 'rg-other' },
      error: /^Workspace 'ws-iris' was not found in resource group 'rg-other'/
    },
    {
      name: 'run still running',
      inputs: { 'run-id': running },
      error: new RegExp(`^Run '${running}' is Running, not Completed; set wait-minutes`)
    },
    {
      name: 'run failed',
      inputs: { 'run-id': failed, 'wait-minutes': '1' },
      error: new RegExp(`^Run '${failed}' ended Failed, not Completed`)
    },
    {
      name: 'run canceled',
      inputs: { 'run-id': canceled },
      error: new RegExp(`^Run '${canceled}' ended Canceled, not Completed`)
    },
    ...['NaN', 'Infinity', '-Infinity', '0.9.1', '', 'high', '1e999999999', '1e-99999999'].map(
      value => ({
        name: `metric tag '${value}'`,
        inputs: { 'run-id': run({ accuracy: value, best_model: 'RF' }) },
        error: new RegExp(
          `^Tag 'accuracy' of run .* is '${value.replace(/\./g, '\\.')}', not a finite decimal number`
        )
      })
    ),
    {
      name: 'compare-to a tag no version carries',
      inputs: { 'model-name': scored, 'compare-to': 'tag:stage=prod,eu' },
      error: new RegExp(
        `^No champion for ${scored}: no version tagged stage=prod,eu has a numeric 'accuracy' property, but it has 1 version \\(newest: 1\\)\\. .*set allow-first: true\\.$`
      )
    },
    {
      name: 'no version with a usable score',
      inputs: { 'model-name': unscored },
      error: new RegExp(
        `^No champion for ${unscored}: no version has a numeric 'accuracy' property`
      )
    },
    {
      name: 'no metric tag anywhere',
      inputs: { 'run-id': run({ best_model: 'RF' }) },
      error: /^Tag, MLflow metric or property 'accuracy' was not found on pipeline run/
    },
    {
      name: 'unknown training step',
      inputs: { 'run-id': stepped, 'training-step-name': 'evaluate' },
      error: new RegExp(`^No step named 'evaluate' in run ${stepped}; its steps are: train`)
    }
  ]
  const model = ws.unique('bad-run')
  const mark = ws.emu.requestLog.length
  const state = JSON.stringify(ws.emu.state.data)
  const results = await runCases(cases, model)
  cases.forEach((c, i) => {
    expect({ case: c.name, error: shown(results[i]) }).toEqual({
      case: c.name,
      error: expect.stringMatching(c.error)
    })
    expectOneLineError(results[i], c.error)
  })
  expect(writesIn(ws.emu.requestLog.slice(mark))).toEqual([])
  expect(JSON.stringify(ws.emu.state.data)).toBe(state)
})

test('a champion whose metric is not a number is skipped with a warning, not an error', async () => {
  const { ws } = rel
  const model = ws.unique('bad-champion')
  ws.seedVersion(model, '1', { accuracy: '0.95' }, { createdAt: '2026-01-01T00:00:00Z' })
  ws.seedVersion(model, '2', { accuracy: 'n/a' }, { createdAt: '2026-02-01T00:00:00Z' })
  ws.seedVersion(model, '3', {}, { createdAt: '2026-03-01T00:00:00Z' })
  const run = await rel.gate(
    ws.inputs({
      'run-id': ws.addRun({ tags: { accuracy: '0.97', best_model: 'RF' } }),
      'model-name': model,
      'model-path': ws.model('champion test')
    })
  )
  rel.tally.badInputs += 2
  expect(run.error).toBeUndefined()
  // One line for all of them, naming each with what it holds.
  expect(run.stdout.match(/^::warning::.*skipped as.*$/gm)).toEqual([
    `::warning::2 versions of ${model} are skipped as champions, having no numeric 'accuracy' property: 3 (none), 2 ('n/a').`
  ])
  expect(run.outputs).toMatchObject({
    registered: 'true',
    reason: 'better',
    'champion-version': '1',
    'model-version': '4'
  })
})

test('an authority that cannot be reached: after retries, one line naming the host and the inputs', async () => {
  const { ws } = rel
  const mark = ws.emu.requestLog.length
  // A closed loopback port: nothing answers, as with a wrong cloud or authority-host.
  const run = await rel.gate(
    ws.inputs({
      'run-id': goodRun,
      'model-name': ws.unique('no-authority'),
      'model-path': goodModel,
      'authority-host': 'https://127.0.0.1:1'
    })
  )
  rel.tally.badInputs += 1
  expectOneLineError(
    run,
    /^Sign-in failed: the Microsoft Entra authority 127\.0\.0\.1:1 could not be reached after retries \(.+\); check the cloud and authority-host inputs/
  )
  expect(writesIn(ws.emu.requestLog.slice(mark))).toEqual([])
}, 180_000)

test('a stack trace only with step debug logging on', async () => {
  const inputs = rel.ws.inputs({
    'run-id': goodRun,
    'model-name': 'bad name!',
    'model-path': goodModel
  })
  const quiet = await rel.gate(inputs)
  expectOneLineError(quiet, /^Input 'model-name'/)
  expect(quiet.stdout).not.toMatch(/^::debug::/m)
  for (const debug of [{ RUNNER_DEBUG: '1' }, { ACTIONS_STEP_DEBUG: 'true' }]) {
    const verbose = await rel.gate(inputs, debug)
    expect(verbose.error).toMatch(/^Input 'model-name'/)
    expect(verbose.stdout).toMatch(/^::debug::InputError: Input 'model-name'.*%0A\s+at /m)
  }
  rel.tally.badInputs += 1
})

test('no write was lost, duplicated or overwritten', async () => {
  const { lost, duplicated } = await rel.audit()
  expect(lost).toEqual([])
  expect(duplicated).toEqual([])
})
