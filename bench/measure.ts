// Measuring instruments: the built action as a child process (wall time, peak RSS, the spawn
// instant), `node -e 0` as the start-up yardstick, statistics, and reading the emulator's
// request log (round-trip chains, upload windows).
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { LogEntry } from '../emulator/index.js'
import { ACTION_ENTRY, ACTION_NODE, parseOutputFile } from '../scripts/action-runner.js'

export interface Stats {
  median: number
  min: number
  max: number
  n: number
}

export function stats(values: number[]): Stats {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length }
}

export interface ChildRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  /** Date.now() just before spawn: the emulator's request log uses the same clock */
  spawnedAt: number
  wallMs: number
  /** Peak resident set (VmHWM) in KiB, polled from /proc; 0 where /proc is missing */
  peakRssKiB: number
}

/** Variables of this process that must not reach the action (same rule as the runner). */
const HOST_VARIABLES = /^(AZURE_|ACTIONS_|GITHUB_|INPUT_|RUNNER_|MSI_|IDENTITY_|IMDS_)/

/**
 * Runs dist/index.js as the runner does (inputs as INPUT_* variables, GITHUB_OUTPUT), like
 * scripts/action-runner.ts, but keeping the child's pid to poll its peak RSS and the exact
 * spawn instant for the start-up measurement.
 */
export async function runBuiltAction(
  inputs: Record<string, string | undefined>,
  env: Record<string, string>,
  node = ACTION_NODE
): Promise<ChildRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gate-bench-run-'))
  try {
    const outputFile = path.join(dir, 'output')
    const summaryFile = path.join(dir, 'summary')
    writeFileSync(outputFile, '')
    writeFileSync(summaryFile, '')
    const childEnv = baseEnvironment(env)
    for (const [name, value] of Object.entries(inputs)) {
      if (value !== undefined) childEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
    }
    Object.assign(childEnv, {
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_ACTIONS: 'true',
      RUNNER_TEMP: dir
    })
    const run = await spawnMeasured(node, [ACTION_ENTRY], childEnv)
    return { ...run, outputs: parseOutputFile(readFileSync(outputFile, 'utf8')) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** This process's environment without what could reach Azure, plus `env`. */
function baseEnvironment(env: Record<string, string>): Record<string, string> {
  const childEnv: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !HOST_VARIABLES.test(key) && key !== 'NODE_OPTIONS')
      childEnv[key] = value
  }
  return Object.assign(childEnv, env)
}

/**
 * Wall time of `node -e 0`, the floor of any Node.js process on this machine, in the same
 * environment and with the same Node.js as the action (NODE_EXTRA_CA_CERTS included: Node reads
 * it at start either way).
 */
export async function bareNodeMs(env: Record<string, string>, node = ACTION_NODE): Promise<number> {
  return (await spawnMeasured(node, ['-e', '0'], baseEnvironment(env))).wallMs
}

const RSS_POLL_MS = 5

function spawnMeasured(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 300_000
): Promise<Omit<ChildRun, 'outputs'>> {
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now()
    const started = performance.now()
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let peakRssKiB = 0
    child.stdout.on('data', chunk => (stdout += chunk))
    child.stderr.on('data', chunk => (stderr += chunk))
    // VmHWM is the kernel's own high-water mark, so polling only has to see it before exit.
    const poll = setInterval(() => {
      peakRssKiB = Math.max(peakRssKiB, readHighWaterMark(child.pid))
    }, RSS_POLL_MS)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', error => {
      clearInterval(poll)
      clearTimeout(timer)
      reject(error)
    })
    child.on('exit', () => {
      const wallMs = performance.now() - started
      clearInterval(poll)
      clearTimeout(timer)
      child.on('close', code =>
        resolve({ exitCode: code ?? -1, stdout, stderr, spawnedAt, wallMs, peakRssKiB })
      )
    })
  })
}

function readHighWaterMark(pid: number | undefined): number {
  if (!pid) return 0
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0)
  } catch {
    return 0 // exited, or no /proc
  }
}

/**
 * The sequential chain of one run, from the request log taken with a fixed latency L: a request
 * that arrives within L/2 of the previous wave's first request went out alongside it; anything
 * later waited for an answer. Requests never sent to Azure (Entra's OpenID metadata, which MSAL
 * carries for Azure's clouds) are left out. Returns the waves, each a list of route ids.
 */
export function requestWaves(log: LogEntry[], latencyMs: number): string[][] {
  const waves: { at: number; routes: string[] }[] = []
  const sent = log.filter(entry => !entry.notSentToAzure)
  for (const entry of sent.sort((a, b) => a.at - b.at)) {
    const last = waves[waves.length - 1]
    if (last && entry.at - last.at < latencyMs / 2) last.routes.push(entry.route)
    else waves.push({ at: entry.at, routes: [entry.route] })
  }
  return waves.map(wave => wave.routes)
}

export function describeWaves(waves: string[][]): string {
  return waves
    .map(routes => {
      const counts = new Map<string, number>()
      for (const route of routes) counts.set(route, (counts.get(route) ?? 0) + 1)
      const parts = [...counts].map(([route, n]) => (n > 1 ? `${route} ×${n}` : route))
      return parts.length > 1 ? `{${parts.join(' ‖ ')}}` : parts[0]
    })
    .join(' → ')
}

/** Start-up: from spawning the action to the arrival of its first request at the emulator. */
export function firstRequestMs(run: ChildRun, log: LogEntry[]): number {
  return Math.min(...log.map(entry => entry.at)) - run.spawnedAt
}

/** First blob request's arrival to the last blob request's answer: the upload alone. */
export function blobWindowMs(log: LogEntry[]): number {
  const blobs = log.filter(entry => entry.route.startsWith('blob.'))
  if (blobs.length === 0) return NaN
  const start = Math.min(...blobs.map(entry => entry.at))
  const end = Math.max(...blobs.map(entry => entry.at + entry.durationMs))
  return end - start
}

/** CPU seconds: busy on the whole machine, and used by this process and its children. */
export interface CpuSnapshot {
  machine: number
  ours: number
}

const TICK_S = 0.01 // USER_HZ is 100 on Linux

/**
 * Where the machine's CPU time went, from /proc: what this process, its reaped children (the
 * action, the plain uploads) and its live ones (Azurite) used, against all busy time. The
 * difference between two snapshots is what other processes took during the benchmark.
 */
export function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1)
    // user nice system (irq and softirq time, such as the loopback traffic of the uploads, is
    // charged to no process, so it stays out of both sides)
    const busy = [0, 1, 2].reduce((sum, i) => sum + Number(cpu[i] ?? 0), 0)
    const self = statTimes('self', true)
    const live = readdirSync('/proc/self/task')
      .flatMap(tid => readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/))
      .filter(Boolean)
      .reduce((sum, pid) => sum + statTimes(pid, false), 0)
    return { machine: busy * TICK_S, ours: (self + live) * TICK_S }
  } catch {
    return undefined // not Linux
  }
}

/** utime + stime (+ cutime + cstime) in ticks from /proc/PID/stat; 0 once the process is gone. */
function statTimes(pid: string, withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17
    const times = fields.slice(11, withChildren ? 15 : 13).map(Number)
    return times.reduce((sum, t) => sum + t, 0)
  } catch {
    return 0
  }
}
