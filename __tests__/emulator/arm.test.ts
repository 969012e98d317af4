// ARM surface through the real @azure/arm-machinelearning client: workspace, jobs, models.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { AzureMachineLearningWorkspaces, ModelVersion } from '@azure/arm-machinelearning'
import type { Emulator } from '../../emulator/index.js'
import { armClient, armUrl, bearer, call, secretCredential, start } from './helpers.js'

let emu: Emulator
let arm: AzureMachineLearningWorkspaces
let rg: string
let ws: string
beforeAll(async () => {
  emu = await start()
  arm = armClient(emu, secretCredential(emu))
  rg = emu.resourceGroup
  ws = emu.workspaceName
})
afterAll(async () => {
  await emu?.stop()
})

const uri = (job: string, path = 'model.pkl'): string =>
  `azureml://jobs/${job}/outputs/artifacts/paths/${path}`
const version = (job: string, extra: Partial<ModelVersion['properties']> = {}): ModelVersion => ({
  properties: { modelUri: uri(job), modelType: 'custom_model', jobName: job, ...extra }
})

describe('workspace', () => {
  it('advertises the data plane on localhost', async () => {
    const w = await arm.workspaces.get(rg, ws)
    expect(w.id).toBe(emu.workspaceId)
    expect(w.discoveryUrl).toBe(`${emu.apiUrl}/discovery`)
    expect(w.mlFlowTrackingUri).toBe(
      `azureml://${new URL(emu.apiUrl).host}/mlflow/v1.0${emu.workspaceId}`
    )
    expect(emu.requestLog.at(-1)?.apiVersion).toBe('2022-10-01')
  })

  it('answers 404 for an unknown workspace or resource group', async () => {
    await expect(arm.workspaces.get(rg, 'nope')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound'
    })
    await expect(arm.workspaces.get('rg-nope', ws)).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceGroupNotFound'
    })
  })

  it('matches path segments case-insensitively', async () => {
    const token = await bearer(emu)
    const res = await call(
      armUrl(emu, '').replace('resourceGroups', 'RESOURCEGROUPS').replace(ws, ws.toUpperCase()),
      { token }
    )
    expect(res.status).toBe(200)
  })
})

describe('jobs', () => {
  it('returns a pipeline job with tags, status and steps', async () => {
    const job = await arm.jobs.get(rg, ws, 'iris-train-001')
    expect(job.properties).toMatchObject({
      jobType: 'Pipeline',
      experimentName: 'iris',
      status: 'Completed',
      tags: { best_model: 'RandomForest', accuracy: '0.9667' }
    })
    expect(job.systemData?.createdAt).toBeInstanceOf(Date)
  })

  it('404s unknown jobs and serves step runs with null properties', async () => {
    await expect(arm.jobs.get(rg, ws, 'nope')).rejects.toMatchObject({
      statusCode: 404,
      code: 'UserError'
    })
    const res = await call(armUrl(emu, '/jobs/iris-train-003-train'), { token: await bearer(emu) })
    expect(res.status).toBe(200)
    expect(res.json.properties).toBeNull()
  })

  it('lists jobs across pages', async () => {
    const names: string[] = []
    for await (const page of arm.jobs.list(rg, ws).byPage()) names.push(...page.map(j => j.name!))
    expect(names).toEqual(
      expect.arrayContaining(['iris-train-001', 'iris-train-running', 'iris-train-failed'])
    )
    const first = await call(armUrl(emu, '/jobs?$top=2'), { token: await bearer(emu) })
    expect(first.json.value).toHaveLength(2)
    expect(first.json.nextLink).toMatch(/\$skipToken=2/)
  })

  it('advances a status sequence per GET and completes a job after a delay', async () => {
    emu.state.addJob({ name: 'seq-job', experimentName: 'iris', status: 'Running' })
    emu.state.setJobStatusSequence('seq-job', ['Running', 'Finalizing', 'Completed'])
    const seen: string[] = []
    for (let i = 0; i < 4; i++)
      seen.push((await arm.jobs.get(rg, ws, 'seq-job')).properties.status!)
    expect(seen).toEqual(['Running', 'Finalizing', 'Completed', 'Completed'])

    emu.state.addJob({ name: 'later-job', experimentName: 'iris', status: 'Running' })
    emu.state.completeJobAfter('later-job', 150)
    expect((await arm.jobs.get(rg, ws, 'later-job')).properties.status).toBe('Running')
    await new Promise(r => setTimeout(r, 200))
    expect((await arm.jobs.get(rg, ws, 'later-job')).properties.status).toBe('Completed')
  })
})

describe('models', () => {
  it('404s a container never registered', async () => {
    await expect(arm.modelContainers.get(rg, ws, 'iris-clf')).rejects.toMatchObject({
      statusCode: 404
    })
  })

  it('registers versions, 201 new and 200 update of description and tags', async () => {
    const created = await arm.modelVersions.createOrUpdate(
      rg,
      ws,
      'iris-clf',
      '1',
      version('iris-train-001', {
        tags: { accuracy: '0.9667' },
        properties: { accuracy: '0.9667' }
      })
    )
    expect(created.name).toBe('1')
    expect(emu.requestLog.at(-1)).toMatchObject({ route: 'arm.model.version.put', status: 201 })
    const updated = await arm.modelVersions.createOrUpdate(
      rg,
      ws,
      'iris-clf',
      '1',
      version('iris-train-001', { description: 'champion', tags: { stage: 'prod' } })
    )
    expect(emu.requestLog.at(-1)).toMatchObject({ status: 200 })
    expect(updated.properties).toMatchObject({
      description: 'champion',
      tags: { stage: 'prod' },
      properties: { accuracy: '0.9667' }
    })
    const container = await arm.modelContainers.get(rg, ws, 'iris-clf')
    expect(container.properties).toMatchObject({ latestVersion: '1', nextVersion: '2' })
  })

  it('refuses to change the asset path of a version', async () => {
    const put = arm.modelVersions.createOrUpdate(rg, ws, 'iris-clf', '1', version('iris-train-002'))
    await expect(put).rejects.toMatchObject({
      statusCode: 400,
      code: 'UserError',
      message: 'Asset paths cannot be updated.'
    })
  })

  it('validates the body: modelUri required, string tag values, version syntax', async () => {
    const token = await bearer(emu)
    const url = (v: string): string => armUrl(emu, `/models/iris-clf/versions/${v}`)
    expect((await call(url('9'), { method: 'PUT', token, body: { properties: {} } })).status).toBe(
      400
    )
    const numericTag = await call(url('9'), {
      method: 'PUT',
      token,
      body: { properties: { modelUri: uri('x'), tags: { a: 1 } } }
    })
    expect(numericTag.status).toBe(400)
    expect(numericTag.json.error.code).toBe('UserError')
    expect(
      (
        await call(url('.bad'), {
          method: 'PUT',
          token,
          body: { properties: { modelUri: uri('x') } }
        })
      ).status
    ).toBe(400)
  })

  it('lists versions newest first with $top paging, filters and orderings', async () => {
    await arm.modelVersions.createOrUpdate(
      rg,
      ws,
      'iris-clf',
      '2',
      version('iris-train-002', { tags: { accuracy: '0.9333', stage: 'dev' } })
    )
    await arm.modelVersions.createOrUpdate(
      rg,
      ws,
      'iris-clf',
      '3',
      version('iris-train-003', { tags: { accuracy: '0.9800', stage: 'dev' } })
    )
    const token = await bearer(emu)
    const first = await call(
      armUrl(emu, '/models/iris-clf/versions?$orderBy=createdtime%20desc&$top=1'),
      { token }
    )
    expect(first.json.value.map((v: { name: string }) => v.name)).toEqual(['3'])
    expect(first.json.nextLink).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/.*\$skip=1/)
    expect(first.json.nextLink).toContain('api-version=2022-10-01')
    const second = await call(first.json.nextLink, { token })
    expect(second.json.value.map((v: { name: string }) => v.name)).toEqual(['2'])
    const last = await call(armUrl(emu, '/models/iris-clf/versions?$top=1&$skip=2'), { token })
    expect(last.json.value).toHaveLength(1)
    expect(last.json.nextLink).toBeNull()

    const all: string[] = []
    for await (const v of arm.modelVersions.list(rg, ws, 'iris-clf', { top: 1 })) all.push(v.name!)
    expect(all).toEqual(['3', '2', '1'])
    const asc: string[] = []
    for await (const v of arm.modelVersions.list(rg, ws, 'iris-clf', {
      orderBy: 'createdtime asc'
    }))
      asc.push(v.name!)
    expect(asc).toEqual(['1', '2', '3'])
    const dev: string[] = []
    for await (const v of arm.modelVersions.list(rg, ws, 'iris-clf', {
      tags: 'stage=dev,accuracy'
    }))
      dev.push(v.name!)
    expect(dev).toEqual(['3', '2'])
    const byVersion = await call(
      armUrl(emu, '/models/iris-clf/versions?$orderBy=version%20desc&tags=stage=prod'),
      { token }
    )
    expect(byVersion.json.value.map((v: { name: string }) => v.name)).toEqual(['1'])
    expect(emu.state.listModelVersions('iris-clf')).toHaveLength(3)
    expect((await arm.modelVersions.get(rg, ws, 'iris-clf', '2')).properties.jobName).toBe(
      'iris-train-002'
    )
    await expect(arm.modelVersions.get(rg, ws, 'iris-clf', '99')).rejects.toMatchObject({
      statusCode: 404
    })
  })
})
