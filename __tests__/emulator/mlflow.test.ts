// The emulator's MLflow REST API, driven by the action's own MLflow client (src/azureml/mlflow.ts)
// and by plain requests; every request the client sends and every answer it reads is validated
// against the JSON Schemas in contracts/mlflow/ (from mlflow/protos/service.proto).
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Ajv } from 'ajv'
import type { Emulator } from '../../emulator/index.js'
import { MlflowClient } from '../../src/azureml/mlflow.js'
import type { JsonRequest, JsonResponse } from '../../src/azureml/http.js'
import { Workspace } from '../../src/azureml/workspace.js'
import { bearer, call, clientByRole, secretCredential, start } from './helpers.js'

const dir = fileURLToPath(new URL('../../contracts/mlflow/', import.meta.url))
const ajv = new Ajv({ allErrors: true, strict: false })
for (const file of readdirSync(dir).filter(f => f.endsWith('.schema.json'))) {
  ajv.addSchema(JSON.parse(readFileSync(path.join(dir, file), 'utf8')), file)
}
function expectValid(schema: string, value: unknown): void {
  const validate = ajv.getSchema(`${schema}.schema.json`)
  if (!validate) throw new Error(`no schema ${schema}`)
  const ok = validate(value)
  expect({ schema, errors: ok ? null : validate.errors }).toEqual({ schema, errors: null })
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

let emu: Emulator
let token: string
let ws: Workspace
let client: MlflowClient
const exchanges: { request: JsonRequest; response: JsonResponse<unknown> }[] = []

beforeAll(async () => {
  emu = await start({ childPageSize: 2 })
  token = await bearer(emu)
  // A series longer than a page, and more children than a page.
  emu.state.addJob({
    name: 'series-run',
    experimentName: 'iris',
    status: 'Completed',
    endedAt: '2024-06-01T10:00:00Z',
    mlflow: {
      metrics: [0.5, 0.9, 0.7, 0.95, 0.6].map((value, step) => ({ key: 'acc', value, step })),
      params: { best_model: 'SVC' }
    },
    children: Array.from({ length: 5 }, (_, i) => ({
      runId: `series-run-${i}`,
      displayName: `step_${i}`,
      mlflow: { metrics: [{ key: 'acc', value: i / 10 }] }
    }))
  })
  ws = await Workspace.connect(
    {
      subscriptionId: emu.subscriptionId,
      resourceGroup: emu.resourceGroup,
      workspaceName: emu.workspaceName,
      armEndpoint: emu.url
    },
    secretCredential(emu)
  )
  // Record what the client sends and reads; the real pipeline still does the work.
  const send = ws.dataPlane.send.bind(ws.dataPlane)
  ws.dataPlane.send = async <T>(operation: string, request: JsonRequest) => {
    const response = await send<T>(operation, request)
    exchanges.push({ request, response })
    return response
  }
  client = new MlflowClient(ws)
})
afterAll(async () => {
  await emu?.stop()
})

function validateExchanges(): void {
  for (const { request, response } of exchanges.splice(0)) {
    const url = new URL(request.url)
    const query = Object.fromEntries(url.searchParams)
    const schema = url.pathname.endsWith('/runs/get')
      ? 'run.get'
      : url.pathname.endsWith('/runs/search')
        ? 'runs.search'
        : 'metric-history.get'
    expect(url.pathname).toContain(`/mlflow/v2.0${emu.workspaceId}/api/2.0/mlflow/`)
    expectValid(`${schema}.request`, request.method === 'POST' ? request.body : query)
    expectValid(response.status === 200 ? `${schema}.response` : 'error-response', response.body)
  }
}

describe('the MLflow REST API', () => {
  it('runs/get: latest metric values, params, tags with mlflow.parentRunId, Azure quirks', async () => {
    const run = await client.getRun('iris-train-v2-train')
    expect(run?.metrics.get('accuracy')).toMatchObject({ value: 0.9867, step: 2 })
    expect(run?.tags.get('best_model')).toBe('GradientBoosting')
    expect(run?.tags.get('mlflow.parentRunId')).toBe('iris-train-v2')
    expect(run?.params.get('n_estimators')).toBe('200')
    expect(run?.experimentId).toMatch(GUID)
    expect(await client.getRun('no-such-run')).toBeUndefined()
    validateExchanges()

    const raw = await call(
      `${emu.apiUrl}/mlflow/v1.0${emu.workspaceId}/api/2.0/mlflow/runs/get?run_id=iris-train-v2`,
      { token }
    )
    expect(raw.status).toBe(200)
    expectValid('run.get.response', raw.json)
    expect(typeof raw.json.run.info.start_time).toBe('string')
    expect(typeof raw.json.run.info.end_time).toBe('string')
    expect(raw.json.run.info.status).toBe('FINISHED')
  })

  it('the last value is the highest step, then the latest timestamp, whatever the order logged', async () => {
    const run = await client.getRun('series-run')
    expect(run?.metrics.get('acc')).toMatchObject({ value: 0.6, step: 4 })
    validateExchanges()
  })

  it('metrics/get-history: every value, through every page', async () => {
    const history = await client.metricHistory('series-run', 'acc')
    expect(history.map(m => m.value)).toEqual([0.5, 0.9, 0.7, 0.95, 0.6])
    expect(history.map(m => m.step)).toEqual([0, 1, 2, 3, 4])
    expect(exchanges.length).toBe(3) // pages of 2
    expect(typeof exchanges[0].response.body).toBe('object')
    const first = (exchanges[0].response.body as { metrics: { timestamp: unknown }[] }).metrics[0]
    expect(typeof first.timestamp).toBe('string')
    validateExchanges()
  })

  it('runs/search: the children of a run by tags.mlflow.parentRunId, through every page', async () => {
    const parent = await client.getRun('series-run')
    const children = await client.children(parent!)
    expect(children.map(c => c.id).sort()).toEqual([0, 1, 2, 3, 4].map(i => `series-run-${i}`))
    expect(children.every(c => c.tags.get('mlflow.parentRunId') === 'series-run')).toBe(true)
    validateExchanges()
  })

  it('sub-pipeline steps name their own parent', async () => {
    const nested = await client.getRun('iris-train-nested-sub-train')
    expect(nested?.tags.get('mlflow.parentRunId')).toBe('iris-train-nested-sub')
    expect(nested?.tags.get('mlflow.rootRunId')).toBe('iris-train-nested')
    validateExchanges()
  })

  it('errors in MLflow dialect: unknown run 404, unsupported filter 400', async () => {
    const base = `${emu.apiUrl}/mlflow/v2.0${emu.workspaceId}/api/2.0/mlflow`
    const missing = await call(`${base}/metrics/get-history?run_id=nope&metric_key=acc`, { token })
    expect(missing.status).toBe(404)
    expectValid('error-response', missing.json)
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST')
    const filter = await call(`${base}/runs/search`, {
      method: 'POST',
      token,
      body: { experiment_ids: ['x'], filter: 'metrics.acc > 0.5' }
    })
    expect(filter.status).toBe(400)
    expect(filter.json.error_code).toBe('INVALID_PARAMETER_VALUE')
  })

  it('the schemas refuse what MLflow would not send', () => {
    const bad = [
      ['run.get.response', { run: { info: { run_id: 'r' } } }], // no experiment_id
      ['metric-history.get.response', { metrics: [{ key: 'a', value: 'high' }] }],
      ['metric-history.get.response', { metrics: [{ key: 'a', value: 1, step: '1.5' }] }],
      ['runs.search.request', { experiment_ids: [], filter: "tags.mlflow.parentRunId = 'x'" }]
    ] as const
    for (const [schema, value] of bad) {
      expect({ schema, valid: ajv.getSchema(`${schema}.schema.json`)!(value) }).toEqual({
        schema,
        valid: false
      })
    }
  })

  it('needs a token; a Reader may read', async () => {
    const url = `${emu.apiUrl}/mlflow/v2.0${emu.workspaceId}/api/2.0/mlflow/runs/get?run_id=iris-train-v2`
    expect((await call(url)).status).toBe(401)
    const reader = clientByRole(emu, 'Reader')
    const readerToken = await bearer(
      emu,
      secretCredential(emu, reader.clientId, reader.clientSecret)
    )
    expect((await call(url, { token: readerToken })).status).toBe(200)
  })
})
