// State persisted to a file survives an emulator restart (models, artifact records, blobs in the
// same data dir); direct-to-Azurite SAS URLs; the CLI's offline commands read that state.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from '@jest/globals'
import { BlockBlobClient } from '@azure/storage-blob'
import type { Emulator } from '../../emulator/index.js'
import {
  armClient,
  bearer,
  call,
  historyUrl,
  secretCredential,
  start,
  type Reply
} from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'emu-persist-'))
const statePath = join(dir, 'state.json')
const dataDir = join(dir, 'data')
let running: Emulator | undefined

afterAll(async () => {
  await running?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function uploadArtifact(emu: Emulator, path: string): Promise<Reply> {
  return call(historyUrl(emu, '/experiments/iris/runs/iris-train-003/artifacts/batch/metadata'), {
    method: 'POST',
    token: await bearer(emu),
    body: { paths: [{ path }] }
  })
}

const cli = (...args: string[]) =>
  promisify(execFile)(
    process.execPath,
    ['node_modules/tsx/dist/cli.mjs', 'emulator/cli.ts', ...args],
    {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, NODE_OPTIONS: '' }
    }
  )

describe('persistence across restarts', () => {
  it('a second emulator sees the first one’s registrations, artifacts and blobs', async () => {
    running = await start({ statePath, dataDir, directBlob: true })
    const first = running
    const arm1 = armClient(first, secretCredential(first))
    await arm1.modelVersions.createOrUpdate(
      first.resourceGroup,
      first.workspaceName,
      'iris-clf',
      '1',
      {
        properties: {
          modelUri: 'azureml://jobs/iris-train-003/outputs/artifacts/paths/model/model.pkl',
          jobName: 'iris-train-003',
          properties: { accuracy: '0.9800', model_type: 'SVC' }
        }
      }
    )
    const meta = await uploadArtifact(first, 'model/model.pkl')
    const sas: string = meta.json.artifactContentInformation['model/model.pkl'].contentUri
    expect(sas.startsWith(first.azuriteUrl)).toBe(true) // directBlob: straight to Azurite
    await new BlockBlobClient(sas).upload('svc', 3)
    expect(first.requestLog.some(e => e.route.startsWith('blob.'))).toBe(false)
    await first.stop()
    running = undefined
    expect(readdirSync(dir).filter(f => f.endsWith('.tmp'))).toEqual([])
    const saved = JSON.parse(readFileSync(statePath, 'utf8'))
    expect(saved.models[0].versions[0].version).toBe('1')

    running = await start({ statePath, dataDir })
    const second = running
    const arm2 = armClient(second, secretCredential(second))
    const container = await arm2.modelContainers.get(
      second.resourceGroup,
      second.workspaceName,
      'iris-clf'
    )
    expect(container.properties).toMatchObject({ latestVersion: '1', nextVersion: '2' })
    const again = await uploadArtifact(second, 'model/model.pkl')
    expect(Object.keys(again.json.errors)).toEqual(['model/model.pkl'])
    expect((await second.readArtifact('iris-train-003', 'model/model.pkl')).toString()).toBe('svc')
    expect(existsSync(join(dataDir, 'ca.pem'))).toBe(true)
    await second.stop()
    running = undefined
  })
})

describe('cli offline commands', () => {
  it('lists model versions from a state file and writes a seed', async () => {
    const { stdout } = await cli('models', 'iris-clf', '--state', statePath)
    expect(stdout).toMatch(/^version\s+created\s+jobName\s+properties/m)
    expect(stdout).toMatch(/^1\s+\S+\s+iris-train-003\s+accuracy=0.9800 model_type=SVC/m)
    const out = join(dir, 'seed.json')
    await cli('seed', '--out', out)
    expect(JSON.parse(readFileSync(out, 'utf8')).workspace.name).toBe('ws-iris')
  })
})
