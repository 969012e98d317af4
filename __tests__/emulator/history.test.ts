// Data plane: discovery, run-history children, artifact metadata and real blob uploads to Azurite
// through the emulator's blob proxy with @azure/storage-blob.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { BlockBlobClient } from '@azure/storage-blob'
import type { Emulator } from '../../emulator/index.js'
import { bearer, call, historyUrl, start } from './helpers.js'

let emu: Emulator
let token: string
beforeAll(async () => {
  emu = await start({ childPageSize: 2 })
  token = await bearer(emu)
})
afterAll(async () => {
  await emu?.stop()
})

const metadata = (runId: string, paths: string[], experiment = 'iris') =>
  call(historyUrl(emu, `/experiments/${experiment}/runs/${runId}/artifacts/batch/metadata`), {
    method: 'POST',
    token,
    body: { paths: paths.map(path => ({ path })) }
  })

describe('discovery and run history', () => {
  it('discovery names the data-plane host (anonymous, like Azure)', async () => {
    const res = await call(`${emu.apiUrl}/discovery`)
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ api: emu.apiUrl, history: emu.apiUrl })
  })

  it('pages children through nextLink until null', async () => {
    let url: string | null = historyUrl(emu, '/runs/iris-train-003/children')
    const runs: Array<Record<string, unknown>> = []
    let pages = 0
    while (url) {
      const res = await call(url, { token })
      expect(res.status).toBe(200)
      runs.push(...res.json.value)
      url = res.json.nextLink
      pages += 1
      if (url) expect(url.startsWith(emu.apiUrl)).toBe(true)
    }
    expect(pages).toBe(2)
    expect(runs.map(r => r.displayName)).toEqual(['prep_step', 'train_step', 'eval_step'])
    const train = runs.find(r => r.displayName === 'train_step')
    expect(train).toMatchObject({
      name: 'train_model',
      parentRunId: 'iris-train-003',
      rootRunId: 'iris-train-003',
      tags: { best_model: 'SVC', accuracy: '0.9800' },
      dataContainerId: 'dcid.iris-train-003-train'
    })
  })

  it('honours $top and 404s an unknown run', async () => {
    const res = await call(historyUrl(emu, '/runs/iris-train-003/children?$top=10'), { token })
    expect(res.json.value).toHaveLength(3)
    expect(res.json.nextLink).toBeNull()
    const missing = await call(historyUrl(emu, '/runs/nope/children'), { token })
    expect(missing.status).toBe(404)
    expect(missing.json.error.code).toBe('UserError')
  })
})

describe('artifacts', () => {
  it('hands out a write SAS per new path and uploads land in Azurite', async () => {
    const res = await metadata('iris-train-001', ['model/model.pkl', 'model/MLmodel'])
    expect(res.status).toBe(200)
    expect(res.json.errors).toEqual({})
    expect(res.json.artifacts['model/model.pkl']).toEqual({
      artifactId: 'ExperimentRun/dcid.iris-train-001/model/model.pkl',
      origin: 'ExperimentRun',
      container: 'dcid.iris-train-001',
      path: 'model/model.pkl'
    })
    const info = res.json.artifactContentInformation['model/model.pkl']
    expect(info.contentUri).toMatch(
      new RegExp(
        `^${emu.url}/devstoreaccount1/azureml/ExperimentRun/dcid.iris-train-001/model/model.pkl\\?.*sig=`
      )
    )

    const bytes = Buffer.from('pickled forest')
    await new BlockBlobClient(info.contentUri).upload(bytes, bytes.length)
    expect(await emu.readArtifact('iris-train-001', 'model/model.pkl')).toEqual(bytes)
    const props = await emu.artifactProperties('iris-train-001', 'model/model.pkl')
    expect(props).toEqual({
      size: bytes.length,
      contentMD5: createHash('md5').update(bytes).digest('base64')
    })
    expect(await emu.artifactProperties('iris-train-001', 'model/absent')).toBeNull()

    // Block upload (Put Block + Put Block List), as uploadData does for big files.
    const big = Buffer.alloc(300_000, 7)
    const mlmodel = new BlockBlobClient(
      res.json.artifactContentInformation['model/MLmodel'].contentUri
    )
    await mlmodel.uploadData(big, {
      blockSize: 100_000,
      maxSingleShotSize: 100_000,
      concurrency: 2
    })
    expect((await emu.readArtifact('iris-train-001', 'model/MLmodel')).equals(big)).toBe(true)
    const routes = emu.requestLog.map(e => e.route)
    expect(routes).toEqual(expect.arrayContaining(['blob.put', 'blob.block', 'blob.blocklist']))
    expect(emu.requestLog.every(e => !e.path.includes('?') && !e.path.includes('sig='))).toBe(true)
  })

  it('reports an existing path under errors, as an ErrorResponse, with no content URI', async () => {
    const res = await metadata('iris-train-001', ['model/model.pkl', 'model/new.txt'])
    // run-history.json: BatchArtifactContentInformationResult.errors maps to ErrorResponse.
    expect(res.json.errors['model/model.pkl']).toMatchObject({
      error: {
        code: 'UserError',
        message:
          'Resource Conflict: ArtifactId ExperimentRun/dcid.iris-train-001/model/model.pkl already exists.'
      },
      correlation: expect.any(Object)
    })
    expect(res.json.artifactContentInformation['model/model.pkl']).toBeUndefined()
    expect(res.json.artifactContentInformation['model/new.txt'].contentUri).toBeTruthy()
  })

  it('404s an unknown run or an experiment mismatch', async () => {
    expect((await metadata('nope', ['a'])).status).toBe(404)
    expect((await metadata('iris-train-001', ['a'], 'other')).status).toBe(404)
  })

  it('serves a read SAS through contentinfo and lists artifacts', async () => {
    const url = historyUrl(
      emu,
      '/experiments/iris/runs/iris-train-001/artifacts/contentinfo?path=model/model.pkl'
    )
    const info = await call(url, { token })
    expect(info.status).toBe(200)
    expect(info.json).toMatchObject({
      origin: 'ExperimentRun',
      container: 'dcid.iris-train-001',
      path: 'model/model.pkl'
    })
    const downloaded = await new BlockBlobClient(info.json.contentUri).downloadToBuffer()
    expect(downloaded.toString()).toBe('pickled forest')
    const absent = await call(url.replace('model.pkl', 'nope.pkl'), { token })
    expect(absent.status).toBe(404)
    const list = await call(historyUrl(emu, '/experiments/iris/runs/iris-train-001/artifacts'), {
      token
    })
    expect(list.json.value.map((a: { path: string }) => a.path)).toEqual([
      'model/model.pkl',
      'model/MLmodel',
      'model/new.txt'
    ])
    expect(emu.state.listArtifacts('iris-train-001')).toHaveLength(3)
  })

  it('refuses to read with a write-only SAS (Azurite checks SAS permissions)', async () => {
    const res = await metadata('iris-train-002', ['x.txt'])
    const writeOnly = new BlockBlobClient(res.json.artifactContentInformation['x.txt'].contentUri)
    await writeOnly.upload('x', 1)
    await expect(writeOnly.downloadToBuffer()).rejects.toMatchObject({ statusCode: 403 })
  })
})
