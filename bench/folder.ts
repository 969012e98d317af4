// A model folder of many small files (an MLflow model with its environment, a tokenizer…):
// the action's first upload and re-run against a plain @azure/storage-blob upload of the same
// files at the same concurrency, each at L = 0 and at L = 40 ms.
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  ContainerSASPermissions,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters
} from '@azure/storage-blob'
import { CONTAINER, DEV_ACCOUNT, DEV_KEY } from '../emulator/blob.js'
import type { LogEntry } from '../emulator/index.js'
import { addRun, child, gate, scored, unique, type Bench } from './scenarios.js'

/** The action's FILE_CONCURRENCY (src/azureml/artifacts.ts): the baseline uses the same. */
export const FOLDER_CONCURRENCY = 16
const KiB = 1024

/** `count` files of 1–64 KiB of random bytes, three directory levels deep. */
export function makeFolder(bench: Bench, count: number): { dir: string; bytes: number } {
  const dir = path.join(bench.dir, unique('folder'))
  let seed = 13
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  let bytes = 0
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${i % 8}`, `e${i % 5}`, `f${i % 3}`)
    mkdirSync(sub, { recursive: true })
    const size = KiB + Math.floor(random() * 63 * KiB)
    writeFileSync(path.join(sub, `part-${i}.bin`), randomBytes(size))
    bytes += size
  }
  return { dir, bytes }
}

export interface FolderResult {
  latencyMs: number
  plainMs: number[]
  firstMs: number[]
  rerunMs: number[]
  /** Requests to run history and blob storage, of the last first upload and re-run */
  firstRequests: number
  rerunRequests: number
}

const here = path.dirname(fileURLToPath(import.meta.url))

function containerSas(bench: Bench): string {
  const sas = generateBlobSASQueryParameters(
    {
      containerName: CONTAINER,
      permissions: ContainerSASPermissions.parse('cw'),
      expiresOn: new Date(Date.now() + 60 * 60_000),
      protocol: SASProtocol.Https
    },
    new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY)
  ).toString()
  return `${bench.blobEndpoint}/${DEV_ACCOUNT}/${CONTAINER}?${sas}`
}

async function plainUpload(bench: Bench, folder: string, latencyMs: number): Promise<number> {
  bench.emu.setLatency(latencyMs)
  try {
    const stdout = await child(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(here, 'plain-folder.ts'),
        folder,
        containerSas(bench),
        `ExperimentRun/dcid.bench-baseline/${unique('folder')}`,
        String(FOLDER_CONCURRENCY)
      ],
      { ...process.env, NODE_EXTRA_CA_CERTS: bench.emu.caCertPath, NODE_OPTIONS: '' }
    )
    return Number(stdout.trim())
  } finally {
    bench.emu.setLatency(0)
  }
}

const storage = (log: LogEntry[]) =>
  log.filter(e => e.route.startsWith('history.artifacts') || e.route.startsWith('blob.'))

/**
 * The upload, from the emulator's log: from the first artifact request to the registration
 * request that follows the last file (first upload), or to the action's exit (a re-run, which
 * registers nothing and ends once it knows the folder is there).
 */
function uploadWindow(log: LogEntry[], end: number): number {
  return end - Math.min(...storage(log).map(e => e.at))
}

/**
 * Plain upload, first upload and re-run, `rounds` times in turn. No warm-up round of its own:
 * the round-trip flows before it have warmed the action, the emulator and Azurite.
 */
export async function folderUploads(
  bench: Bench,
  folder: string,
  latencyMs: number,
  rounds: number
): Promise<FolderResult> {
  const result: FolderResult = {
    latencyMs,
    plainMs: [],
    firstMs: [],
    rerunMs: [],
    firstRequests: 0,
    rerunRequests: 0
  }
  for (let i = 0; i < rounds; i++) {
    const plain = await plainUpload(bench, folder, latencyMs)
    const inputs = {
      'run-id': addRun(bench, scored),
      'model-name': unique('m'),
      'model-path': folder,
      'artifact-path': 'model'
    }
    const first = await gate(bench, inputs, latencyMs)
    if (first.run.outputs.registered !== 'true') throw new Error('folder: not registered')
    const register = first.log.find(e => e.route === 'arm.model.version.put')
    if (!register) throw new Error('folder: no registration in the request log')
    const rerun = await gate(bench, inputs, latencyMs)
    if (rerun.run.outputs.reason !== 'already-registered') {
      throw new Error(`folder re-run: reason ${rerun.run.outputs.reason}`)
    }
    const exit = rerun.run.spawnedAt + rerun.run.wallMs
    result.plainMs.push(plain)
    result.firstMs.push(uploadWindow(first.log, register.at))
    result.rerunMs.push(uploadWindow(rerun.log, exit))
    result.firstRequests = storage(first.log).length
    result.rerunRequests = storage(rerun.log).length
  }
  return result
}
