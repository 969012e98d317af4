// What `npm run bench` runs: the gate's flows under latency (round trips and start-up), a 1 GiB
// upload against plain uploads of the same file (throughput), and peak memory by model size.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  BlobSASPermissions,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters
} from '@azure/storage-blob'
import { CONTAINER, DEV_ACCOUNT, DEV_KEY } from '../emulator/blob.js'
import type { Emulator, LogEntry } from '../emulator/index.js'
import { ACTION_NODE, emulatorInputs } from '../scripts/action-runner.js'
import {
  bareNodeMs,
  requestWaves,
  runBuiltAction,
  firstRequestMs,
  type ChildRun
} from './measure.js'

export const MiB = 1024 * 1024

export interface Bench {
  emu: Emulator
  /** Temp dir for model files; removed by the caller */
  dir: string
  /** Where the SAS URLs the emulator hands out point: its blob proxy, or Azurite itself */
  blobEndpoint: string
  log: (line: string) => void
  /** The Node.js that runs the action: ACTION_NODE unless a measurement chooses another */
  node?: string
}

let counter = 0
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`

/** Writes `size` random bytes (incompressible, so nothing on the way can shortcut them). */
export async function makeModel(bench: Bench, name: string, size: number): Promise<string> {
  const file = path.join(bench.dir, name)
  const out = createWriteStream(file)
  for (let offset = 0; offset < size; offset += 8 * MiB) {
    if (!out.write(randomBytes(Math.min(8 * MiB, size - offset)))) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return file
}

function inputs(
  bench: Bench,
  overrides: Record<string, string>
): Record<string, string | undefined> {
  return emulatorInputs(bench.emu, overrides)
}

export function addRun(
  bench: Bench,
  tags: Record<string, string>,
  children: { name: string; tags: Record<string, string> }[] = []
): string {
  const name = unique('bench-run')
  bench.emu.state.addJob({
    name,
    displayName: name,
    experimentName: 'bench',
    status: 'Completed',
    jobType: 'Pipeline',
    tags,
    children: children.map((child, i) => ({
      runId: `${name}_step${i}`,
      name: child.name,
      displayName: child.name,
      status: 'Completed',
      tags: child.tags
    }))
  })
  return name
}

export interface FlowRun {
  run: ChildRun
  log: LogEntry[]
}

export async function gate(
  bench: Bench,
  overrides: Record<string, string>,
  latencyMs = 0
): Promise<FlowRun> {
  bench.emu.setLatency(latencyMs)
  bench.emu.clearLog()
  try {
    const run = await runBuiltAction(
      inputs(bench, overrides),
      { NODE_EXTRA_CA_CERTS: bench.emu.caCertPath },
      bench.node
    )
    if (run.exitCode !== 0) {
      throw new Error(
        `the action failed (exit ${run.exitCode}): ${/::error::(.*)/.exec(run.stdout)?.[1] ?? run.stderr.slice(-500)}`
      )
    }
    return { run, log: [...bench.emu.requestLog] }
  } finally {
    bench.emu.setLatency(0)
  }
}

/** A flow to time: prepares fresh state, runs the gate, says whether it did what was meant. */
export interface Flow {
  name: string
  /** What the gate must conclude, checked on every run */
  expect: { registered: string; reason: string }
  run(bench: Bench, latencyMs: number): Promise<FlowRun>
}

const small = (bench: Bench) => makeModel(bench, `${unique('model')}.pkl`, 64 * 1024)
export const scored = { accuracy: '0.9500', best_model: 'RandomForest' }

export const FLOWS: Flow[] = [
  {
    name: 'first registration',
    expect: { registered: 'true', reason: 'first' },
    async run(bench, latencyMs) {
      const runId = addRun(bench, scored)
      const model = await small(bench)
      return gate(
        bench,
        { 'run-id': runId, 'model-name': unique('m'), 'model-path': model },
        latencyMs
      )
    }
  },
  {
    name: 'not better',
    expect: { registered: 'false', reason: 'not-better' },
    async run(bench, latencyMs) {
      const modelName = unique('m')
      bench.emu.state.addModelVersion(modelName, {
        version: '1',
        modelUri: 'azureml://jobs/champion/outputs/artifacts/paths/model.pkl',
        jobName: 'champion',
        properties: { accuracy: '0.9900' },
        tags: { accuracy: '0.9900' }
      })
      const runId = addRun(bench, scored)
      const model = await small(bench)
      return gate(
        bench,
        { 'run-id': runId, 'model-name': modelName, 'model-path': model },
        latencyMs
      )
    }
  },
  {
    name: 'step fallback (step tag)',
    expect: { registered: 'true', reason: 'first' },
    async run(bench, latencyMs) {
      const runId = addRun(bench, {}, [
        { name: 'prep_step', tags: {} },
        { name: 'train_step', tags: scored },
        { name: 'eval_step', tags: {} }
      ])
      const model = await small(bench)
      return gate(
        bench,
        { 'run-id': runId, 'model-name': unique('m'), 'model-path': model },
        latencyMs
      )
    }
  },
  {
    name: 'pipeline MLflow metric',
    expect: { registered: 'true', reason: 'first' },
    async run(bench, latencyMs) {
      const runId = addRun(bench, { best_model: 'RandomForest' })
      bench.emu.state.logMetric(runId, { key: 'accuracy', value: 0.95 })
      const model = await small(bench)
      return gate(
        bench,
        { 'run-id': runId, 'model-name': unique('m'), 'model-path': model },
        latencyMs
      )
    }
  },
  {
    name: 'step MLflow metric',
    expect: { registered: 'true', reason: 'first' },
    async run(bench, latencyMs) {
      const runId = addRun(bench, {}, [
        { name: 'prep_step', tags: {} },
        { name: 'train_step', tags: { best_model: 'RandomForest' } },
        { name: 'eval_step', tags: {} }
      ])
      bench.emu.state.logMetric(`${runId}_step1`, { key: 'accuracy', value: 0.95 })
      const model = await small(bench)
      return gate(
        bench,
        { 'run-id': runId, 'model-name': unique('m'), 'model-path': model },
        latencyMs
      )
    }
  },
  {
    name: 're-run',
    expect: { registered: 'true', reason: 'already-registered' },
    async run(bench, latencyMs) {
      const runId = addRun(bench, scored)
      const model = await small(bench)
      const inputs = { 'run-id': runId, 'model-name': unique('m'), 'model-path': model }
      await gate(bench, inputs) // the first attempt, untimed
      return gate(bench, inputs, latencyMs)
    }
  }
]

export interface RoundTripResult {
  flow: string
  wall0: number[]
  wallL: number[]
  /** Waves of requests of the last run under latency */
  waves: string[][]
  /** Start-up samples from the runs without latency: spawn → first request */
  startupMs: number[]
  /** `node -e 0` taken right before each of those runs */
  bareNodeMs: number[]
}

/**
 * Each flow `repeats` times at L=0 and at L, alternating, after a warm-up pair of every flow.
 * The flows take turns, one pair each per round, so that whatever drifts while the benchmark
 * runs (the emulator's state grows with every run) weighs on every flow alike: timed one flow
 * after another, the first flow's count came out 0.2 to 0.4 L lower than the others'. The
 * gate's CPU time is the same with and without latency, so the difference of medians divided
 * by L counts the requests that waited for another's answer.
 */
export async function roundTrips(
  bench: Bench,
  latencyMs: number,
  repeats: number
): Promise<RoundTripResult[]> {
  for (const flow of FLOWS) {
    for (const latency of [0, latencyMs]) check(flow, (await flow.run(bench, latency)).run)
  }
  const results: RoundTripResult[] = FLOWS.map(flow => ({
    flow: flow.name,
    wall0: [],
    wallL: [],
    waves: [],
    startupMs: [],
    bareNodeMs: []
  }))
  for (let i = 0; i < repeats; i++) {
    const order = i % 2 ? [latencyMs, 0] : [0, latencyMs]
    for (const [f, flow] of FLOWS.entries()) {
      const result = results[f]
      for (const latency of order) {
        const bare =
          latency === 0 ? await bareNodeMs({ NODE_EXTRA_CA_CERTS: bench.emu.caCertPath }) : 0
        const { run, log } = await flow.run(bench, latency)
        check(flow, run)
        if (latency === 0) {
          result.wall0.push(run.wallMs)
          result.startupMs.push(firstRequestMs(run, log))
          result.bareNodeMs.push(bare)
        } else {
          result.wallL.push(run.wallMs)
          result.waves = requestWaves(log, latencyMs)
        }
      }
    }
    bench.log(`  round ${i + 1} of ${repeats}: every flow at L=0 and L=${latencyMs} ms`)
  }
  return results
}

export interface StartupResult {
  node: string
  /** spawn → first request, each run */
  startupMs: number[]
  /** `node -e 0` taken right before each of those runs */
  bareNodeMs: number[]
}

/**
 * Start-up alone on another Node.js than the round trips ran on (the target holds on Node 20
 * and on Node 24): a first registration `repeats` times without latency, after a warm-up.
 */
export async function startupOn(
  bench: Bench,
  node: string,
  repeats: number
): Promise<StartupResult> {
  const result: StartupResult = { node, startupMs: [], bareNodeMs: [] }
  const flow = FLOWS[0]
  bench.node = node
  try {
    for (let i = 0; i <= repeats; i++) {
      const bare = await bareNodeMs({ NODE_EXTRA_CA_CERTS: bench.emu.caCertPath }, node)
      const { run, log } = await flow.run(bench, 0)
      check(flow, run)
      if (i === 0) continue
      result.startupMs.push(firstRequestMs(run, log))
      result.bareNodeMs.push(bare)
    }
  } finally {
    bench.node = undefined
  }
  return result
}

function check(flow: Flow, run: ChildRun): void {
  const { registered, reason } = run.outputs
  if (registered !== flow.expect.registered || reason !== flow.expect.reason) {
    throw new Error(
      `${flow.name}: expected registered=${flow.expect.registered} reason=${flow.expect.reason}, got registered=${registered} reason=${reason}`
    )
  }
}

/** A write SAS for a throwaway blob, at the endpoint the action is handed. */
export function baselineSas(bench: Bench): string {
  const blobName = `ExperimentRun/dcid.bench-baseline/${unique('upload')}.bin`
  const sas = generateBlobSASQueryParameters(
    {
      containerName: CONTAINER,
      blobName,
      permissions: BlobSASPermissions.parse('cw'),
      expiresOn: new Date(Date.now() + 60 * 60_000),
      protocol: SASProtocol.Https
    },
    new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY)
  ).toString()
  return `${bench.blobEndpoint}/${DEV_ACCOUNT}/${CONTAINER}/${blobName}?${sas}`
}

const here = path.dirname(fileURLToPath(import.meta.url))
const exec = promisify(execFile)

/** Runs a child to completion, asynchronously (the emulator in this process keeps serving). */
export function child(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', chunk => (stdout += chunk))
    proc.stderr.on('data', chunk => (stderr += chunk))
    proc.on('error', reject)
    proc.on('close', code =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${command} exited ${code}: ${stderr.slice(-500)}`))
    )
  })
}

export interface Uploader {
  name: string
  /** Time the upload alone took, and the uploading process's peak RSS where known */
  upload(bench: Bench, file: string): Promise<{ uploadMs: number; peakRssKiB?: number }>
}

/** The SDK's own uploadFile with a given block size and concurrency, timed inside its process. */
export function sdkUploader(blockMiB: number, concurrency: number): Uploader {
  return {
    name: `@azure/storage-blob uploadFile, ${blockMiB} MiB × ${concurrency}`,
    async upload(bench, file) {
      // The same Node.js as the action: the ratio compares uploaders, not runtimes.
      const stdout = await child(
        ACTION_NODE,
        [
          '--import',
          'tsx',
          path.join(here, 'plain-upload.ts'),
          file,
          baselineSas(bench),
          `${blockMiB}`,
          `${concurrency}`
        ],
        { ...process.env, NODE_EXTRA_CA_CERTS: bench.emu.caCertPath, NODE_OPTIONS: '' }
      )
      return { uploadMs: Number(stdout.trim()) }
    }
  }
}

/** One PUT of the whole file by curl (no blocks, no hashing, no JavaScript), timed by curl. */
export const curlUploader: Uploader = {
  name: 'curl -T (one Put Blob)',
  async upload(bench, file) {
    const stdout = await child(
      'curl',
      [
        '-sS',
        '--fail',
        '-o',
        '/dev/null',
        '-w',
        '%{time_total}',
        '--cacert',
        bench.emu.caCertPath,
        '-H',
        'x-ms-blob-type: BlockBlob',
        '-T',
        file,
        baselineSas(bench)
      ],
      process.env
    )
    return { uploadMs: Number(stdout.trim()) * 1000 }
  }
}

/**
 * The whole gate (a first registration) with this model. The upload is what happens between
 * run history's answer with the SAS URL and the registration request that follows the commit
 * (nothing else runs then but loading the blob SDK): read from the emulator's request log.
 */
export const actionUploader: Uploader = {
  name: 'the action (dist/index.js), whole flow',
  async upload(bench, file) {
    const runId = addRun(bench, scored)
    const { run, log } = await gate(bench, {
      'run-id': runId,
      'model-name': unique('m'),
      'model-path': file,
      'artifact-path': 'model.bin'
    })
    check(FLOWS[0], run)
    const metadata = log.find(entry => entry.route === 'history.artifacts.metadata')
    const register = log.find(entry => entry.route === 'arm.model.version.put')
    if (!metadata || !register) throw new Error('the request log lacks the upload brackets')
    return {
      uploadMs: register.at - (metadata.at + metadata.durationMs),
      peakRssKiB: run.peakRssKiB
    }
  }
}

export async function curlAvailable(): Promise<boolean> {
  return exec('curl', ['--version']).then(
    () => true,
    () => false
  )
}

export interface ThroughputResult {
  name: string
  mibPerS: number[]
  peakRssKiB: number[]
}

/** Every uploader `repeats` times on the same file, in rotating order, after one warm-up each. */
export async function throughput(
  bench: Bench,
  file: string,
  size: number,
  uploaders: Uploader[],
  repeats: number
): Promise<ThroughputResult[]> {
  const results = uploaders.map(u => ({
    name: u.name,
    mibPerS: [] as number[],
    peakRssKiB: [] as number[]
  }))
  for (let i = 0; i <= repeats; i++) {
    for (let k = 0; k < uploaders.length; k++) {
      const index = (k + i) % uploaders.length
      // Azurite's writes of the previous upload must not be flushed to disk during this one.
      await exec('sync')
      const { uploadMs, peakRssKiB } = await uploaders[index].upload(bench, file)
      if (!(uploadMs > 0)) throw new Error(`${uploaders[index].name}: no upload time (${uploadMs})`)
      if (i === 0) continue
      results[index].mibPerS.push(size / MiB / (uploadMs / 1000))
      if (peakRssKiB) results[index].peakRssKiB.push(peakRssKiB)
    }
    bench.log(`  round ${i}${i === 0 ? ' (warm-up)' : ''} done`)
  }
  return results
}

/** Peak RSS of the whole gate with a model of each size (the action process only). */
export async function peakMemory(bench: Bench, file: string, repeats: number): Promise<number[]> {
  const peaks: number[] = []
  for (let i = 0; i < repeats; i++)
    peaks.push((await actionUploader.upload(bench, file)).peakRssKiB ?? 0)
  return peaks
}
