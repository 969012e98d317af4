// Transient faults on every route the action calls: throttling (honouring Retry-After), server
// errors, timeouts and dropped connections are retried; persistent ones fail loudly and boundedly.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FaultRule } from '../../emulator/index.js'
import { Reliability, type GateRun } from './harness.js'

let rel: Reliability
let bigModel: string
beforeAll(async () => {
  rel = await Reliability.start()
  // Above 8 MiB the action uploads in blocks (Put Block + Put Block List).
  bigModel = rel.bigModel(10 * 1024 * 1024 + 4321)
})
afterEach(() => {
  rel.emu.faults.clear()
})
afterAll(async () => {
  await rel?.finish()
})

/** Routes of a first run: secret sign-in, tags on a step, a champion to beat, one small file. */
const FIRST_RUN = [
  'entra.metadata',
  'entra.token',
  'arm.workspace.get',
  'arm.job.get',
  'arm.model.container.get',
  'arm.model.versions.list',
  'history.children',
  'history.artifacts.metadata',
  'blob.put',
  'arm.model.version.put'
]
/** Routes of a score kept as an MLflow metric series on the training step (metric-aggregation: max). */
const MLFLOW_RUN = ['mlflow.runs.get', 'mlflow.runs.search', 'mlflow.metrics.history']
/** Routes only a re-run reaches: reading back the artifact that is already there. */
const RERUN = ['history.artifacts.contentinfo', 'blob.read']
/** Routes of a large model uploaded by a job signed in with GitHub OIDC. */
const BIG_OIDC_RUN = ['github.oidc', 'entra.token', 'blob.block', 'blob.blocklist']

type Fault = Pick<FaultRule, 'kind' | 'status' | 'retryAfterSeconds'>
const KINDS: Record<string, (i: number) => Fault> = {
  '429 with Retry-After: 1': () => ({ kind: 'status', status: 429, retryAfterSeconds: 1 }),
  '503': () => ({ kind: 'status', status: 503 }),
  '500': () => ({ kind: 'status', status: 500 }),
  // The rest of the retryable set, spread over the routes.
  '408, 502, 504 and dropped connections': i =>
    [
      { kind: 'status', status: 408 },
      { kind: 'status', status: 502 },
      { kind: 'status', status: 504 },
      { kind: 'drop' }
    ][i % 4] as Fault
}

function inject(routes: string[], fault: (i: number) => Fault) {
  rel.emu.faults.add(routes.map((route, i) => ({ route, times: 1, ...fault(i) })))
}

/** Every rule was consumed, and each faulted request was followed by a good one. */
function expectSurvived(run: GateRun, routes: string[], since: number) {
  expect(run.error).toBeUndefined()
  expect(run.exitCode).toBe(0)
  expect(rel.emu.faults.pending()).toEqual([])
  const log = rel.emu.requestLog.slice(since)
  for (const route of routes) {
    const calls = log.filter(e => e.route === route)
    const faulted = calls.findIndex(e => e.fault)
    expect({ route, faulted: faulted >= 0 }).toEqual({ route, faulted: true })
    expect({
      route,
      recovered: calls.slice(faulted + 1).some(e => e.status < 400 && e.status > 0)
    }).toEqual({ route, recovered: true })
  }
  expect(run.faults).toBe(routes.length)
}

describe.each(Object.keys(KINDS))('%s on every route, once each', name => {
  const fault = KINDS[name]
  let inputs: Record<string, string | undefined>

  test('a first run', async () => {
    const { ws } = rel
    const model = ws.unique('faults')
    ws.seedVersion(model, '1', { accuracy: '0.8' })
    inputs = ws.inputs({
      'run-id': ws.addRun({
        children: [{ displayName: 'train', tags: { accuracy: '0.9', best_model: 'RF' } }]
      }),
      'model-name': model,
      'model-path': ws.model(`bytes for ${name}`)
    })
    inject(FIRST_RUN, fault)
    const mark = ws.emu.requestLog.length
    const run = await rel.gate(inputs)
    expectSurvived(run, FIRST_RUN, mark)
    expect(run.outputs).toMatchObject({
      registered: 'true',
      reason: 'better',
      'model-version': '2'
    })
    expect(ws.versions(model)).toHaveLength(2)
    if (name.startsWith('429')) expectRetryAfterHonoured(mark, FIRST_RUN)
  })

  test('a score read from MLflow', async () => {
    const { ws } = rel
    const runId = ws.unique('mlflow-faults')
    ws.emu.state.addJob({
      name: runId,
      experimentName: 'iris',
      status: 'Completed',
      children: [
        {
          runId: `${runId}_train`,
          displayName: 'train',
          mlflow: {
            metrics: [0.7, 0.9, 0.8].map((value, step) => ({ key: 'accuracy', value, step }))
          }
        }
      ]
    })
    inject(MLFLOW_RUN, fault)
    const mark = ws.emu.requestLog.length
    const run = await rel.gate(
      ws.inputs({
        'run-id': runId,
        'model-name': ws.unique('mlflow-faults'),
        'model-path': ws.model(`mlflow ${name}`),
        'metric-aggregation': 'max'
      })
    )
    expectSurvived(run, MLFLOW_RUN, mark)
    expect(run.outputs).toMatchObject({ registered: 'true', 'metric-value': '0.9' })
  })

  test('its re-run, reading back the artifact already there', async () => {
    inject(RERUN, fault)
    const mark = rel.emu.requestLog.length
    const run = await rel.gate(inputs)
    expectSurvived(run, RERUN, mark)
    if (name.startsWith('429')) expectRetryAfterHonoured(mark, RERUN)
    expect(run.outputs).toMatchObject({ registered: 'true', reason: 'already-registered' })
    expect(rel.ws.versions(inputs['model-name']!)).toHaveLength(2)
  })

  test('a large model in blocks, signed in with GitHub OIDC', async () => {
    const { ws } = rel
    const runId = ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
    const federated = ws.emu.clients.find(c => c.federated)!
    inject(BIG_OIDC_RUN, fault)
    const mark = ws.emu.requestLog.length
    const run = await rel.gate(
      ws.inputs({
        'azure-credentials': undefined,
        'client-id': federated.clientId,
        'tenant-id': ws.emu.tenantId,
        'subscription-id': ws.emu.subscriptionId,
        'run-id': runId,
        'model-name': ws.unique('big'),
        'model-path': bigModel
      }),
      {
        ACTIONS_ID_TOKEN_REQUEST_URL: ws.emu.oidc.requestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: ws.emu.oidc.requestToken
      }
    )
    expectSurvived(run, BIG_OIDC_RUN, mark)
    // @actions/core's getIDToken hides the response headers, so the OIDC retry backs off
    // instead of reading Retry-After.
    if (name.startsWith('429'))
      expectRetryAfterHonoured(
        mark,
        BIG_OIDC_RUN.filter(route => route !== 'github.oidc')
      )
    expect(run.outputs).toMatchObject({ registered: 'true', reason: 'first' })
    expect(md5(await ws.emu.readArtifact(runId, 'big.bin'))).toBe(md5(readFileSync(bigModel)))
  })
})

/**
 * After a 429 with Retry-After: 1, the call came back only once the second had passed. (The
 * other block of a block upload is in flight at the same time, so it may land within it.)
 */
function expectRetryAfterHonoured(since: number, routes: string[]) {
  const log = rel.emu.requestLog.slice(since)
  for (const route of routes) {
    const calls = log.filter(e => e.route === route)
    const faulted = calls.find(e => e.fault)!
    const ok = calls.filter(e => e.at > faulted.at && e.status > 0 && e.status < 400)
    const early = ok.filter(e => e.at < faulted.at + 950).length
    const late = ok.filter(e => e.at >= faulted.at + 950).length
    expect({ route, early, retried: late > 0 }).toEqual({
      route,
      early: route === 'blob.block' ? early : 0,
      retried: true
    })
    if (route === 'blob.block') expect(early).toBeLessThanOrEqual(1)
  }
}

test('a connection dropped in the middle of a block upload: the block is sent again', async () => {
  const { ws } = rel
  const runId = ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
  ws.emu.faults.add({ route: 'blob.block', kind: 'drop', afterBytes: 3 * 1024 * 1024, times: 1 })
  const mark = ws.emu.requestLog.length
  const run = await rel.gate(
    ws.inputs({ 'run-id': runId, 'model-name': ws.unique('drop'), 'model-path': bigModel })
  )
  expect(run.error).toBeUndefined()
  expect(run.outputs.registered).toBe('true')
  const blocks = ws.emu.requestLog.slice(mark).filter(e => e.route === 'blob.block')
  expect(blocks.filter(e => e.status === 0 && e.fault === 'drop')).toHaveLength(1)
  expect(blocks.filter(e => e.status === 201)).toHaveLength(2)
  const stored = await ws.emu.readArtifact(runId, 'big.bin')
  expect(stored.length).toBe(readFileSync(bigModel).length)
  expect(md5(stored)).toBe(md5(readFileSync(bigModel)))
  // The whole file's MD5 is on the blob, so a re-run can tell it is the same model.
  expect((await ws.emu.artifactProperties(runId, 'big.bin'))?.contentMD5).toBe(
    md5(readFileSync(bigModel))
  )
})

test('a fault that does not go away: bounded retries, then one line naming the call and status', async () => {
  const { ws } = rel
  const runId = ws.addRun({ tags: { accuracy: '0.9', best_model: 'RF' } })
  const inputs = ws.inputs({
    'run-id': runId,
    'model-name': ws.unique('outage'),
    'model-path': ws.model('outage')
  })
  ws.emu.faults.add({
    route: 'arm.job.get',
    kind: 'status',
    status: 503,
    retryAfterSeconds: 0,
    times: 100
  })
  const mark = ws.emu.requestLog.length
  const failed = await rel.gate(inputs)
  expect(failed.exitCode).toBe(1)
  expect(failed.error).toMatch(new RegExp(`^Get job ${runId} failed with HTTP 503: `))
  // One attempt and six retries, then nothing was written.
  const log = ws.emu.requestLog.slice(mark)
  expect(log.filter(e => e.route === 'arm.job.get')).toHaveLength(7)
  expect(log.filter(e => e.method === 'PUT' || e.route === 'history.artifacts.metadata')).toEqual(
    []
  )
  // The outage ends; the workflow's re-run completes the job.
  ws.emu.faults.clear()
  const rerun = await rel.gate(inputs)
  expect(rerun.error).toBeUndefined()
  expect(rerun.outputs).toMatchObject({ registered: 'true', reason: 'first' })
})

test('no write was lost, duplicated or overwritten', async () => {
  const { lost, duplicated } = await rel.audit()
  expect(lost).toEqual([])
  expect(duplicated).toEqual([])
  expect(rel.unresolvedFaults()).toBe(0)
})

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('base64')
}
