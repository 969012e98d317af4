// No credential is ever printed (client secret, access tokens, GitHub ID tokens, SAS signatures),
// even with every debug log on and calls failing; 401/403 name the identity, role and workspace.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { credentialsFor } from '../../scripts/action-runner.js'
import { Reliability, leaks, writesIn, type GateRun } from './harness.js'

let rel: Reliability
let secrets: string[]
beforeAll(async () => {
  rel = await Reliability.start()
  secrets = [
    ...rel.emu.clients.map(c => c.clientSecret ?? ''),
    rel.emu.oidc.requestToken,
    'wrong-secret-value'
  ].filter(Boolean)
})
afterEach(() => {
  rel.emu.faults.clear()
})
afterAll(async () => {
  await rel?.finish()
})

/** Every log a person could see: SDK logs on stderr, step debug logs, and all outputs. */
const LOUD = { RUNNER_DEBUG: '1', ACTIONS_STEP_DEBUG: 'true', AZURE_LOG_LEVEL: 'verbose' }

function everythingShown(run: GateRun, files: string[] = []): string {
  return [
    run.stdout,
    run.stderr,
    run.summary,
    ...Object.values(run.outputs),
    ...files.map(file => readFileSync(file, 'utf8'))
  ].join('\n')
}

function expectNoLeak(run: GateRun, files: string[] = []) {
  expect(leaks(everythingShown(run, files), secrets)).toEqual([])
}

function oidc() {
  const federated = rel.emu.clients.find(c => c.federated)!
  return {
    inputs: {
      'azure-credentials': undefined,
      'client-id': federated.clientId,
      'tenant-id': rel.emu.tenantId,
      'subscription-id': rel.emu.subscriptionId
    },
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: rel.emu.oidc.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: rel.emu.oidc.requestToken
    }
  }
}

describe('secrets are never printed', () => {
  test('a run that retries every kind of call, with every debug log on', async () => {
    const { ws } = rel
    const decisionFile = path.join(mkdtempSync(path.join(tmpdir(), 'gate-secrets-')), 'd.json')
    ws.emu.faults.add([
      { route: 'entra.token', kind: 'status', status: 503, times: 1 },
      { route: 'arm.job.get', kind: 'status', status: 500, times: 1 },
      { route: 'history.artifacts.metadata', kind: 'drop', times: 1 },
      { route: 'blob.put', kind: 'status', status: 429, retryAfterSeconds: 1, times: 1 }
    ])
    const inputs = ws.inputs({
      'run-id': ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } }),
      'model-name': ws.unique('secret'),
      'model-path': ws.model('secret run'),
      'decision-file': decisionFile
    })
    const run = await rel.gate(inputs, LOUD)
    expect(run.error).toBeUndefined()
    expect(run.outputs.registered).toBe('true')
    expectNoLeak(run, [decisionFile])
    // Masked before anything else is printed: the credentials JSON, its secret, then the token.
    const lines = run.stdout.split('\n')
    const client = ws.secretClient
    expect(lines[0]).toBe(`::add-mask::${inputs['azure-credentials']}`)
    expect(lines[1]).toBe(`::add-mask::${client.clientSecret}`)
    expect(lines.some(line => /^::add-mask::eyJ/.test(line))).toBe(true)

    // Its re-run reads the artifact back through a read SAS.
    const again = await rel.gate(inputs, LOUD)
    expect(again.outputs.reason).toBe('already-registered')
    expectNoLeak(again, [decisionFile])
  })

  test('GitHub OIDC: neither the ID token nor the runtime token is printed', async () => {
    const { ws } = rel
    const { inputs, env } = oidc()
    ws.emu.faults.add({ route: 'github.oidc', kind: 'status', status: 500, times: 1 })
    const run = await rel.gate(
      ws.inputs({
        ...inputs,
        'run-id': ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } }),
        'model-name': ws.unique('oidc-secret'),
        'model-path': ws.model('oidc run')
      }),
      { ...env, ...LOUD }
    )
    expect(run.error).toBeUndefined()
    expectNoLeak(run)
  })

  test('failures that carry URLs and credentials in their errors', async () => {
    const { ws } = rel
    const client = ws.secretClient
    const runs: GateRun[] = []
    // A wrong secret: Entra's answer quotes the request.
    runs.push(
      await rel.gate(
        ws.inputs({
          'azure-credentials': credentialsFor(ws.emu, {
            clientId: client.clientId,
            clientSecret: 'wrong-secret-value'
          }),
          'run-id': ws.addRun({ tags: { accuracy: '0.9' } }),
          'model-name': ws.unique('wrong'),
          'model-path': ws.model('m')
        }),
        LOUD
      )
    )
    expect(runs[0].error).toMatch(/invalid_client|AADSTS7000215/)
    // Storage refuses the upload: the SDK's error names the SAS URL.
    ws.emu.faults.add({ route: 'blob.put', kind: 'status', status: 403, times: 1 })
    const runId = ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
    runs.push(
      await rel.gate(
        ws.inputs({ 'run-id': runId, 'model-name': ws.unique('sas'), 'model-path': ws.model('m') }),
        LOUD
      )
    )
    expect(runs[1].error).toMatch(
      new RegExp(
        `^Upload artifact model.pkl to run ${runId} failed with HTTP 403: .*a re-run uploads the model to the next free path \\(model.1.pkl\\).$`
      )
    )
    // A plain re-run completes the job, at that path.
    const fixed = await rel.gate(runs[1].inputs, LOUD)
    expect(fixed.error).toBeUndefined()
    expect(fixed.outputs['artifact-uri']).toMatch(/\/paths\/model\.1\.pkl$/)
    expectNoLeak(fixed)
    // An OIDC exchange that Entra refuses (the federated credential names another audience).
    const { inputs, env } = oidc()
    runs.push(
      await rel.gate(
        ws.inputs({
          ...inputs,
          audience: 'api://SomethingElse',
          'run-id': ws.addRun({ tags: { accuracy: '0.9' } }),
          'model-name': ws.unique('oidc-fail'),
          'model-path': ws.model('m')
        }),
        { ...env, ...LOUD }
      )
    )
    expect(runs[2].error).toMatch(/AADSTS700212/)
    for (const run of runs) {
      expect(run.exitCode).toBe(1)
      expectNoLeak(run)
    }
  })
})

describe('authorisation errors name the identity, the role and the workspace', () => {
  const reader = () => rel.emu.clients.find(c => c.role === 'Reader')!

  test('a service principal with only Reader: refused at the first write, nothing written', async () => {
    const { ws } = rel
    const client = reader()
    const model = ws.unique('reader')
    const inputs = ws.inputs({
      'azure-credentials': credentialsFor(ws.emu, client),
      'run-id': ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } }),
      'model-name': model,
      'model-path': ws.model('reader')
    })
    const mark = ws.emu.requestLog.length
    const run = await rel.gate(inputs)
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(`HTTP 403`)
    expect(run.error).toContain(
      `The identity client ${client.clientId} lacks the 'AzureML Data Scientist' role on workspace '${ws.emu.workspaceName}'`
    )
    expect(run.error).toContain(
      `az role assignment create --role 'AzureML Data Scientist' --assignee ${client.clientId} --scope ${ws.emu.workspaceId}`
    )
    expect(writesIn(ws.emu.requestLog.slice(mark)).every(e => e.status === 403)).toBe(true)
    expect(ws.emu.state.listArtifacts(inputs['run-id']!)).toEqual([])
    expect(ws.versions(model)).toEqual([])
    expectNoLeak(run)

    // Reading is all a dry run needs, so a Reader may dry-run.
    const dry = await rel.gate({ ...inputs, 'dry-run': 'true' })
    expect(dry.error).toBeUndefined()
    expect(dry.outputs).toMatchObject({ 'dry-run': 'true', reason: 'first' })
  })

  test('the default credential chain: the identity comes from the environment', async () => {
    const { ws } = rel
    const client = reader()
    const run = await rel.gate(
      ws.inputs({
        'azure-credentials': undefined,
        'subscription-id': ws.emu.subscriptionId,
        'run-id': ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } }),
        'model-name': ws.unique('reader-default'),
        'model-path': ws.model('reader')
      }),
      {
        AZURE_TOKEN_CREDENTIALS: 'EnvironmentCredential',
        AZURE_AUTHORITY_HOST: ws.emu.url,
        AZURE_TENANT_ID: ws.emu.tenantId,
        AZURE_CLIENT_ID: client.clientId,
        AZURE_CLIENT_SECRET: client.clientSecret
      }
    )
    expect(run.exitCode).toBe(1)
    expect(run.error).toContain(
      `The identity client ${client.clientId} lacks the 'AzureML Data Scientist' role on workspace '${ws.emu.workspaceName}'`
    )
  })
})

test('no write was lost, duplicated or overwritten', async () => {
  const { lost, duplicated } = await rel.audit()
  expect(lost).toEqual([])
  expect(duplicated).toEqual([])
})
