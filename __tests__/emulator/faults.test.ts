// Fault injection, latency, the request log and the admin API, seen through the real clients.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { AnonymousCredential, BlockBlobClient, newPipeline } from '@azure/storage-blob'
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning'
import type { Emulator } from '../../emulator/index.js'
import { armClient, armUrl, bearer, call, historyUrl, secretCredential, start } from './helpers.js'

let emu: Emulator
let arm: AzureMachineLearningWorkspaces
let token: string
beforeAll(async () => {
  emu = await start()
  arm = armClient(emu, secretCredential(emu))
  token = await bearer(emu)
})
afterEach(() => {
  emu.faults.clear()
  emu.setLatency(0)
})
afterAll(async () => {
  await emu?.stop()
})

const uploadUrl = async (runId: string, path: string): Promise<string> => {
  const res = await call(
    historyUrl(emu, `/experiments/iris/runs/${runId}/artifacts/batch/metadata`),
    {
      method: 'POST',
      token,
      body: { paths: [{ path }] }
    }
  )
  return res.json.artifactContentInformation[path].contentUri
}

describe('status faults', () => {
  it('answers in the ARM dialect with Retry-After, and the SDK retries through it', async () => {
    emu.faults.add({
      route: 'arm.job.get',
      kind: 'status',
      status: 503,
      retryAfterSeconds: 1,
      times: 1
    })
    const raw = await call(armUrl(emu, '/jobs/iris-train-001'), { token })
    expect(raw.status).toBe(503)
    expect(raw.headers.get('retry-after')).toBe('1')
    expect(raw.json.error.code).toBe('ServiceUnavailable')

    emu.faults.add({
      route: 'arm.job.get',
      kind: 'status',
      status: 429,
      retryAfterSeconds: 1,
      times: 1
    })
    emu.clearLog()
    const started = Date.now()
    const job = await arm.jobs.get(emu.resourceGroup, emu.workspaceName, 'iris-train-001')
    expect(job.name).toBe('iris-train-001')
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    expect(emu.requestLog.filter(e => e.route === 'arm.job.get').map(e => e.status)).toEqual([
      429, 200
    ])
    expect(emu.faults.stats()['arm.job.get']).toBe(2)
  })

  it('answers Entra in the OAuth dialect and blob in the storage XML dialect', async () => {
    emu.faults.add([
      { route: 'entra.token', kind: 'status', status: 500, times: 1 },
      { route: 'blob.*', method: 'PUT', kind: 'status', status: 503, times: 1 }
    ])
    const form = new URLSearchParams({ grant_type: 'client_credentials' })
    const entra = await fetch(`${emu.url}/${emu.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: form
    })
    expect(entra.status).toBe(500)
    expect(await entra.json()).toMatchObject({ error: 'server_error' })
    const blob = await fetch(await uploadUrl('iris-train-002', 'a.txt'), {
      method: 'PUT',
      body: 'x',
      headers: { 'x-ms-blob-type': 'BlockBlob' }
    })
    expect(blob.status).toBe(503)
    expect(blob.headers.get('x-ms-error-code')).toBe('ServerBusy')
    expect(await blob.text()).toMatch(/<Error><Code>ServerBusy<\/Code>/)
    expect(emu.faults.pending()).toEqual([])
  })
})

describe('drop and delay faults', () => {
  it('drops the connection; the SDK retries on the reset', async () => {
    emu.faults.add({ route: 'arm.workspace.get', kind: 'drop', times: 1 })
    await expect(call(armUrl(emu, ''), { token })).rejects.toThrow()
    emu.faults.add({ route: 'arm.workspace.get', kind: 'drop', times: 1 })
    await expect(arm.workspaces.get(emu.resourceGroup, emu.workspaceName)).resolves.toBeDefined()
    expect(emu.requestLog.filter(e => e.route === 'arm.workspace.get').map(e => e.status)).toEqual([
      0, 0, 200
    ])
  })

  it('drops an upload mid-body (afterBytes); a retried upload completes', async () => {
    const url = await uploadUrl('iris-train-002', 'model.bin')
    const body = Buffer.alloc(256 * 1024, 1)
    const before = emu.faults.stats()['blob.put'] ?? 0
    emu.faults.add({ route: 'blob.put', kind: 'drop', afterBytes: 64 * 1024, times: 1 })
    emu.clearLog()
    const noRetry = new BlockBlobClient(url, undefined, { retryOptions: { maxTries: 1 } })
    await expect(noRetry.upload(body, body.length)).rejects.toThrow()
    const dropped = emu.requestLog.find(e => e.route === 'blob.put')!
    expect(dropped).toMatchObject({ status: 0, fault: 'drop' })
    expect(dropped.bytesIn).toBeGreaterThanOrEqual(64 * 1024)
    expect(dropped.bytesIn).toBeLessThan(body.length)

    emu.faults.add({ route: 'blob.put', kind: 'drop', afterBytes: 1024, times: 1 })
    const withRetry = new BlockBlobClient(url, undefined, {
      retryOptions: { retryDelayInMs: 10, maxTries: 3 }
    })
    await withRetry.upload(body, body.length)
    expect((await emu.readArtifact('iris-train-002', 'model.bin')).equals(body)).toBe(true)
    expect(emu.faults.stats()['blob.put']).toBe(before + 2)
  })

  it('delays one request', async () => {
    emu.faults.add({ route: 'history.children', kind: 'delay', delayMs: 300, times: 1 })
    emu.clearLog()
    const started = Date.now()
    expect((await call(historyUrl(emu, '/runs/iris-train-001/children'), { token })).status).toBe(
      200
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    await call(historyUrl(emu, '/runs/iris-train-001/children'), { token })
    // Only the first was held: the log says which request a fault took (a wall-clock upper
    // bound on the second would fail on a busy machine).
    expect(emu.requestLog.map(e => [e.route, e.fault])).toEqual([
      ['history.children', 'delay'],
      ['history.children', undefined]
    ])
  })
})

describe('lost-answer faults', () => {
  it('applies the write, then cuts the connection before the answer', async () => {
    emu.faults.add({ route: 'history.artifacts.metadata', kind: 'lost-answer', times: 1 })
    const url = historyUrl(emu, '/experiments/iris/runs/iris-train-002/artifacts/batch/metadata')
    const body = { paths: [{ path: 'lost/answer.pkl' }] }
    await expect(call(url, { method: 'POST', token, body })).rejects.toThrow()
    expect(emu.state.artifact('iris-train-002', 'lost/answer.pkl')).toBeDefined()
    expect(emu.requestLog.at(-1)).toMatchObject({
      route: 'history.artifacts.metadata',
      status: 0,
      fault: 'lost-answer'
    })
    // The client's retry finds the write already made.
    const again = await call(url, { method: 'POST', token, body })
    expect(again.json.errors['lost/answer.pkl'].error.message).toMatch(/already exists/)
  })

  it('applies a blob write through the proxy before the answer is lost', async () => {
    const sas = await uploadUrl('iris-train-002', 'lost/blob.bin')
    emu.faults.add({ route: 'blob.put', kind: 'lost-answer', times: 1 })
    const pipeline = newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: 1 } })
    const blob = new BlockBlobClient(sas, pipeline)
    await expect(blob.upload('bytes', 5)).rejects.toThrow()
    expect((await emu.readArtifact('iris-train-002', 'lost/blob.bin')).toString()).toBe('bytes')
  })
})

describe('latency, request log and admin API', () => {
  it('delays every route, blob proxy included, and logs durations without query strings', async () => {
    const url = await uploadUrl('iris-train-002', 'lat.txt')
    emu.setLatency(100)
    emu.clearLog()
    await new BlockBlobClient(url).upload('hello', 5)
    await call(`${emu.apiUrl}/discovery`)
    expect(emu.requestLog.map(e => e.route)).toEqual(['blob.put', 'dataplane.discovery'])
    for (const e of emu.requestLog) {
      expect(e.durationMs).toBeGreaterThanOrEqual(95)
      expect(e.path).not.toMatch(/[?&]sig=|\?/)
    }
    expect(emu.requestLog[0]).toMatchObject({ method: 'PUT', status: 201, bytesIn: 5 })
  })

  it("does not hold Entra's OpenID metadata, which Azure's clouds never serve to MSAL", async () => {
    emu.setLatency(300)
    emu.clearLog()
    await call(`${emu.url}/${emu.tenantId}/v2.0/.well-known/openid-configuration`)
    await call(`${emu.apiUrl}/discovery`)
    const [metadata, discovery] = emu.requestLog
    expect(metadata).toMatchObject({ route: 'entra.metadata', notSentToAzure: true })
    expect(metadata.durationMs).toBeLessThan(150)
    expect(discovery.notSentToAzure).toBeUndefined()
    expect(discovery.durationMs).toBeGreaterThanOrEqual(295)
  })

  it('drives faults, latency, jobs and the log over /_emulator/', async () => {
    const admin = (path: string, method = 'GET', body?: unknown) =>
      call(`${emu.url}/_emulator${path}`, { method, body })
    expect(
      (
        await admin('/faults', 'POST', {
          route: 'arm.job.get',
          kind: 'status',
          status: 500,
          times: 2
        })
      ).status
    ).toBe(201)
    expect((await admin('/faults')).json.pending).toHaveLength(1)
    expect((await admin('/faults', 'DELETE')).status).toBe(200)
    expect((await admin('/latency', 'PUT', { latencyMs: 5 })).json).toEqual({ latencyMs: 5 })
    expect(
      (
        await admin('/jobs', 'POST', {
          name: 'admin-job',
          experimentName: 'iris',
          status: 'Running'
        })
      ).status
    ).toBe(201)
    expect((await admin('/jobs/admin-job/status', 'POST', { status: 'Completed' })).status).toBe(
      200
    )
    expect(
      (await arm.jobs.get(emu.resourceGroup, emu.workspaceName, 'admin-job')).properties.status
    ).toBe('Completed')
    const log = (await admin('/log')).json as Array<{ route: string }>
    expect(log.at(-1)?.route).toBe('arm.job.get')
    expect(log.some(e => e.route.startsWith('admin'))).toBe(false)
    expect((await admin('/state')).json.workspace.name).toBe(emu.workspaceName)
  })
})
