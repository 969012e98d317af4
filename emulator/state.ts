// The workspace's mutable state: jobs, their child runs, models and artifact records. Optionally
// persisted after every write so successive emulator runs see each other's registrations.
import { existsSync, renameSync, writeFileSync } from 'node:fs'
import type {
  ArtifactRecord,
  Seed,
  SeedChildRun,
  SeedClient,
  SeedJob,
  SeedModel,
  SeedModelVersion
} from './seed.js'
import { loadSeed } from './seed.js'

export interface RunRef {
  job: SeedJob
  /** Set when the run id names a child step run rather than the pipeline job itself. */
  child?: SeedChildRun
  /** The run this one is a step of (the job, or a sub-pipeline step); unset for the job */
  parentId?: string
}

/** Depth-first through sub-pipelines: the step and the run it is a step of. */
function findStep(
  steps: SeedChildRun[] | undefined,
  runId: string,
  parentId: string
): { child: SeedChildRun; parentId: string } | undefined {
  for (const step of steps ?? []) {
    if (step.runId === runId) return { child: step, parentId }
    const below = findStep(step.children, runId, step.runId)
    if (below) return below
  }
  return undefined
}

export class State {
  readonly data: Seed

  constructor(
    seed: Seed | string | undefined,
    readonly statePath?: string
  ) {
    // An existing state file wins over the seed: it is the seed plus everything written since.
    this.data = loadSeed(statePath && existsSync(statePath) ? statePath : seed)
    if (statePath) this.persist()
  }

  client(clientId: string): SeedClient | undefined {
    return this.data.clients.find(c => c.clientId === clientId)
  }

  // ---- jobs and runs ----

  job(name: string): SeedJob | undefined {
    const job = this.data.jobs.find(j => j.name.toLowerCase() === name.toLowerCase())
    if (job?.pendingStatus && Date.now() >= job.pendingStatus.at) {
      job.status = job.pendingStatus.status
      delete job.pendingStatus
      this.persist()
    }
    return job
  }

  /** The status an ARM GET reports; advances a status sequence when one is set. */
  observeJobStatus(job: SeedJob): string {
    if (job.statusSequence && job.statusSequence.length > 0) {
      job.status = job.statusSequence.shift() as string
      if (job.statusSequence.length === 0) delete job.statusSequence
      this.persist()
    }
    return job.status
  }

  run(runId: string): RunRef | undefined {
    for (const job of this.data.jobs) {
      if (job.name === runId) return { job: this.job(job.name) as SeedJob }
      const found = findStep(job.children, runId, job.name)
      if (found) return { job, ...found }
    }
    return undefined
  }

  /** Logs an MLflow metric value on a run (pipeline or step), as a training script would. */
  logMetric(
    runId: string,
    metric: { key: string; value: number; step?: number; timestamp?: number }
  ): void {
    const ref = this.run(runId)
    if (!ref) throw new Error(`No run ${runId}`)
    const target = ref.child ?? ref.job
    ;((target.mlflow ??= {}).metrics ??= []).push({ timestamp: Date.now(), ...metric })
    this.persist()
  }

  addJob(job: SeedJob): SeedJob {
    if (this.data.jobs.some(j => j.name === job.name)) throw new Error(`Job ${job.name} exists`)
    const stored: SeedJob = { jobType: 'Pipeline', createdAt: new Date().toISOString(), ...job }
    this.data.jobs.push(stored)
    this.persist()
    return stored
  }

  setJobStatus(name: string, status: string): void {
    const job = this.mustJob(name)
    job.status = status
    delete job.pendingStatus
    delete job.statusSequence
    this.persist()
  }

  /** Lazily applied: the job reports `status` on the first read after `ms` have elapsed. */
  completeJobAfter(name: string, ms: number, status = 'Completed'): void {
    this.mustJob(name).pendingStatus = { status, at: Date.now() + ms }
    this.persist()
  }

  /** Each ARM job GET takes the next status; the last one sticks. */
  setJobStatusSequence(name: string, statuses: string[]): void {
    this.mustJob(name).statusSequence = [...statuses]
    this.persist()
  }

  private mustJob(name: string): SeedJob {
    const job = this.job(name)
    if (!job) throw new Error(`No job ${name}`)
    return job
  }

  // ---- models ----

  model(name: string): SeedModel | undefined {
    return this.data.models?.find(m => m.name === name)
  }

  listModelVersions(name: string): SeedModelVersion[] {
    return [...(this.model(name)?.versions ?? [])]
  }

  getModelVersion(name: string, version: string): SeedModelVersion | undefined {
    return this.model(name)?.versions.find(v => v.version === version)
  }

  /** Stores a version, creating the container implicitly. Callers check immutability. */
  addModelVersion(name: string, version: SeedModelVersion): SeedModelVersion {
    let model = this.model(name)
    if (!model) {
      model = { name, versions: [] }
      this.data.models?.push(model)
    }
    const now = new Date().toISOString()
    const stored: SeedModelVersion = {
      modelType: 'custom_model',
      tags: {},
      properties: {},
      isArchived: false,
      createdAt: now,
      lastModifiedAt: now,
      ...version
    }
    model.versions = model.versions.filter(v => v.version !== stored.version)
    model.versions.push(stored)
    this.persist()
    return stored
  }

  updateModelVersion(name: string, version: string, patch: Partial<SeedModelVersion>): void {
    const stored = this.getModelVersion(name, version)
    if (!stored) throw new Error(`No model version ${name}:${version}`)
    Object.assign(stored, patch, { lastModifiedAt: new Date().toISOString() })
    this.persist()
  }

  // ---- artifacts ----

  listArtifacts(runId: string): ArtifactRecord[] {
    return [...(this.data.artifacts?.[runId] ?? [])]
  }

  artifact(runId: string, path: string): ArtifactRecord | undefined {
    return this.data.artifacts?.[runId]?.find(a => a.path === path)
  }

  addArtifact(runId: string, path: string): ArtifactRecord {
    const artifacts = (this.data.artifacts ??= {})
    const record = { path, createdAt: new Date().toISOString() }
    ;(artifacts[runId] ??= []).push(record)
    this.persist()
    return record
  }

  // ---- persistence ----

  toJSON(): Seed {
    return this.data
  }

  /** Atomic: write a temp file and rename it over the state file. */
  persist(): void {
    if (!this.statePath) return
    const tmp = `${this.statePath}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(this.data, null, 2) + '\n')
    renameSync(tmp, this.statePath)
  }
}
