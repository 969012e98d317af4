import { createHash, randomBytes } from 'node:crypto'
import { appendFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { LogEntry } from '../../emulator/index.js'
import type { ActionRun } from '../../scripts/action-runner.js'
import { TestWorkspace } from '../integration/workspace.js'

/**
 * What the reliability suites share: the integration harness (one emulator per file, the built
 * action as a child process), plus bookkeeping for the closing summary line: faults injected
 * and survived, bad inputs tried, and an audit of every write the action reported.
 */

/** Counts one test file adds to the suite's summary line (see tally-teardown.js). */
export interface Tally {
  faultsInjected: number
  /** The step succeeded although faults hit it (retries) */
  survivedByRetry: number
  /** The step failed loudly, and a re-run completed the job */
  survivedByRerun: number
  badInputs: number
  lost: number
  duplicated: number
}

export interface GateRun extends ActionRun {
  /** Faults the emulator injected while this run was going */
  faults: number
  inputs: Record<string, string | undefined>
}

/** Methods that change something; a token request or an MLflow search is a POST but writes nothing. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const READ_ONLY_POSTS = new Set(['entra.token', 'mlflow.runs.search'])

export function writesIn(entries: LogEntry[]): LogEntry[] {
  return entries.filter(e => WRITE_METHODS.has(e.method) && !READ_ONLY_POSTS.has(e.route))
}

/** Lines of a stack trace, as Node prints them. */
export const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m

export class Reliability {
  readonly tally: Tally = {
    faultsInjected: 0,
    survivedByRetry: 0,
    survivedByRerun: 0,
    badInputs: 0,
    lost: 0,
    duplicated: 0
  }
  /** Successful runs whose reported writes the audit checks */
  private readonly succeeded: GateRun[] = []
  /** Faults of failed steps, by run id, until a re-run of that run completes the job */
  private readonly unresolved = new Map<string, number>()
  /** Each version as first seen: a later change would be an overwrite */
  private readonly firstSeen = new Map<string, string>()

  private constructor(readonly ws: TestWorkspace) {}

  static async start(options: Parameters<typeof TestWorkspace.start>[0] = {}) {
    return new Reliability(await TestWorkspace.start(options))
  }

  get emu() {
    return this.ws.emu
  }

  faultCount(): number {
    return Object.values(this.emu.faults.stats()).reduce((sum, n) => sum + n, 0)
  }

  /** Runs the built action once, and books the faults it met. */
  async gate(
    inputs: Record<string, string | undefined>,
    env: Record<string, string | undefined> = {}
  ): Promise<GateRun> {
    const before = this.faultCount()
    const run = await this.ws.gate(inputs, env)
    return this.book({ ...run, faults: this.faultCount() - before, inputs })
  }

  /** Starts several action processes at once; faults are booked for the group. */
  async gateAll(
    runs: { inputs: Record<string, string | undefined>; startAfterMs?: number }[]
  ): Promise<GateRun[]> {
    const before = this.faultCount()
    const results = await Promise.all(
      runs.map(async ({ inputs, startAfterMs }) => {
        if (startAfterMs) await new Promise(resolve => setTimeout(resolve, startAfterMs))
        return { ...(await this.ws.gate(inputs)), faults: 0, inputs }
      })
    )
    const faults = this.faultCount() - before
    if (results.every(r => r.exitCode === 0)) this.tally.survivedByRetry += faults
    else this.unresolved.set('(concurrent runs)', faults)
    for (const r of results) if (r.exitCode === 0) this.succeeded.push(r)
    return results
  }

  private book(run: GateRun): GateRun {
    const runId = run.inputs['run-id'] ?? ''
    if (run.exitCode === 0) {
      this.succeeded.push(run)
      this.tally.survivedByRetry += run.faults
      this.tally.survivedByRerun += this.unresolved.get(runId) ?? 0
      this.unresolved.delete(runId)
    } else if (run.faults > 0) {
      this.unresolved.set(runId, (this.unresolved.get(runId) ?? 0) + run.faults)
    }
    return run
  }

  /** Faults that failed a step whose job no re-run has completed yet. */
  unresolvedFaults(): number {
    return [...this.unresolved.values()].reduce((sum, n) => sum + n, 0)
  }

  /** A random binary model of the given size (for block uploads). */
  bigModel(bytes: number): string {
    const file = path.join(path.dirname(this.ws.model('x')), 'big.bin')
    writeFileSync(file, randomBytes(bytes))
    return file
  }

  /** Remembers every version as it is now; `audit` reports any that changed since. */
  snapshotVersions(model: string): void {
    for (const v of this.ws.versions(model)) {
      const key = `${model}:${v.version}`
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, versionFingerprint(v))
    }
  }

  /**
   * Every write a successful run reported is there, exactly once, with the bytes of the local
   * model; no version changed after it was first seen; no run holds two versions of a model.
   */
  async audit(): Promise<{ lost: string[]; duplicated: string[] }> {
    const lost: string[] = []
    const duplicated: string[] = []
    const models = new Set<string>()
    for (const run of this.succeeded) {
      const { outputs, inputs } = run
      const model = outputs['model-name']
      if (!model) continue
      models.add(model)
      if (outputs.registered === 'true') {
        const version = this.ws.versions(model).find(v => v.version === outputs['model-version'])
        if (!version || version.jobName !== outputs['run-id'])
          lost.push(`${model}:${outputs['model-version']} of run ${outputs['run-id']}`)
        else if (version.modelUri !== outputs['artifact-uri'])
          lost.push(`${model}:${version.version} points at ${version.modelUri}`)
      }
      if (outputs['artifact-uri'] && inputs['model-path']) {
        for (const problem of await this.compareArtifact(
          outputs['run-id'],
          outputs['artifact-uri'],
          inputs['model-path']
        ))
          lost.push(problem)
      }
    }
    for (const model of models) {
      this.snapshotVersions(model)
      const byRun = new Map<string, string[]>()
      for (const v of this.ws.versions(model)) {
        const key = `${v.jobName} ${v.modelUri}`
        byRun.set(key, [...(byRun.get(key) ?? []), v.version])
        if (this.firstSeen.get(`${model}:${v.version}`) !== versionFingerprint(v))
          lost.push(`${model}:${v.version} was overwritten`)
      }
      for (const [key, versions] of byRun)
        if (versions.length > 1) duplicated.push(`${model} ${versions.join(', ')} all hold ${key}`)
    }
    this.tally.lost = lost.length
    this.tally.duplicated = duplicated.length
    return { lost, duplicated }
  }

  private async compareArtifact(runId: string, uri: string, local: string): Promise<string[]> {
    const root = uri.replace(/^azureml:\/\/jobs\/[^/]+\/outputs\/artifacts\/paths\//, '')
    const files = statSync(local).isDirectory()
      ? listFiles(local).map(rel => ({ artifact: `${root}${rel}`, file: path.join(local, rel) }))
      : [{ artifact: root, file: local }]
    const problems: string[] = []
    for (const { artifact, file } of files) {
      const stored = await this.emu.readArtifact(runId, artifact).catch(() => undefined)
      if (!stored || md5(stored) !== md5(readFileSync(file)))
        problems.push(`artifact ${artifact} of run ${runId} does not hold ${file}`)
    }
    return problems
  }

  /** Stops the emulator and adds this file's counts to the suite's summary. */
  async finish(): Promise<void> {
    this.tally.faultsInjected = this.faultCount()
    const file = process.env.GATE_RELIABILITY_TALLY
    if (file) appendFileSync(file, JSON.stringify(this.tally) + '\n')
    await this.ws.stop()
  }
}

function versionFingerprint(v: {
  jobName?: string
  modelUri?: string
  properties?: Record<string, string>
}): string {
  return JSON.stringify([v.jobName, v.modelUri, v.properties])
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry =>
    entry.isDirectory()
      ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`]
  )
}

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('base64')
}

/** The secrets a run could leak, and what any token or SAS signature looks like. */
export function leaks(text: string, secrets: string[]): string[] {
  // ::add-mask:: is how a secret is handed to the runner to mask: it is never shown.
  const shown = text
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
  const found = secrets.filter(secret => secret && shown.includes(secret))
  const jwt = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/.exec(shown)
  if (jwt) found.push(`a JWT (${jwt[0].slice(0, 12)}…)`)
  // The SDK's own logs print sig=REDACTED; ours print sig=***.
  const sig = /[?&]sig=(?!\*\*\*|REDACTED)[^&\s"'<>]+/.exec(shown)
  if (sig) found.push(`a SAS signature (${sig[0].slice(0, 8)}…)`)
  return found
}
