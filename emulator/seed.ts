// The seed/state schema. A seed file and a persisted state file have the same shape, so a state
// file can be used as the seed of a later run (and `cli seed --out` can write either).
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type Role = 'AzureML Data Scientist' | 'Reader' | 'none'

export interface SeedClient {
  clientId: string
  clientSecret?: string
  /** Accept GitHub OIDC tokens as client assertions (workload identity federation). */
  federated?: { issuer?: string; subject?: string; audience?: string }
  role?: Role
  objectId?: string
  displayName?: string
}

/** What a run logged through MLflow (served by mlflow.ts). */
export interface SeedMlflow {
  /** Every logged value; step defaults to 0, timestamp to the run's start plus the index */
  metrics?: { key: string; value: number; step?: number; timestamp?: number }[]
  params?: Record<string, string>
  /** MLflow tags; in Azure ML they are run tags too, so run history shows them */
  tags?: Record<string, string>
}

export interface SeedChildRun {
  runId: string
  name?: string
  displayName?: string
  status?: string
  tags?: Record<string, string>
  properties?: Record<string, string>
  createdAt?: string
  /** When the run ended (MLflow end_time); omitted: no end time is reported */
  endedAt?: string
  mlflow?: SeedMlflow
  /** Steps of a sub-pipeline */
  children?: SeedChildRun[]
}

export interface SeedJob {
  name: string
  displayName?: string
  experimentName: string
  status: string
  jobType?: string
  tags?: Record<string, string>
  properties?: Record<string, string>
  createdAt?: string
  endedAt?: string
  mlflow?: SeedMlflow
  children?: SeedChildRun[]
  /** Scheduled change: `status` takes effect once the clock passes `at` (epoch ms). */
  pendingStatus?: { status: string; at: number }
  /** Statuses handed out one per ARM job GET; the last one sticks. */
  statusSequence?: string[]
}

export interface SeedModelVersion {
  version: string
  modelUri: string
  modelType?: string
  jobName?: string
  description?: string
  tags?: Record<string, string>
  properties?: Record<string, string>
  /** MLflow flavors as FlavorData: flavor name → { data: string map } */
  flavors?: Record<string, { data?: Record<string, string> }>
  isArchived?: boolean
  createdAt?: string
  createdBy?: string
  lastModifiedAt?: string
}

export interface SeedModel {
  name: string
  description?: string
  tags?: Record<string, string>
  versions: SeedModelVersion[]
}

export interface ArtifactRecord {
  path: string
  createdAt: string
}

export interface Seed {
  tenantId: string
  subscriptionId: string
  resourceGroup: string
  workspace: { name: string; location: string; workspaceId: string }
  clients: SeedClient[]
  jobs: SeedJob[]
  models?: SeedModel[]
  /** Artifact records per run id. */
  artifacts?: Record<string, ArtifactRecord[]>
}

export const irisSeedPath = join(dirname(fileURLToPath(import.meta.url)), 'seeds', 'iris.json')

export function loadSeed(source: Seed | string | undefined): Seed {
  const seed =
    typeof source === 'object'
      ? structuredClone(source)
      : (JSON.parse(readFileSync(source ?? irisSeedPath, 'utf8')) as Seed)
  validateSeed(seed)
  seed.models ??= []
  seed.artifacts ??= {}
  return seed
}

function validateSeed(seed: Seed): void {
  const missing = [
    'tenantId',
    'subscriptionId',
    'resourceGroup',
    'workspace',
    'clients',
    'jobs'
  ].filter(key => !(seed as unknown as Record<string, unknown>)[key])
  if (missing.length > 0) throw new Error(`Emulator seed lacks: ${missing.join(', ')}`)
  for (const job of seed.jobs) {
    if (!job.name || !job.experimentName)
      throw new Error('Every seed job needs name and experimentName')
  }
}
