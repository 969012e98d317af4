// Public API: start a local Azure ML workspace (Entra, GitHub OIDC, ARM, run history, artifact
// blobs on real Azurite) on one loopback HTTPS port, seeded with a known workspace.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { resolve } from 'node:path'
import { adminRoutes } from './admin.js'
import { armRoutes } from './arm.js'
import { startAzurite } from './azurite.js'
import { BlobStore, blobRoutes, type ArtifactProperties } from './blob.js'
import { entraRoutes } from './entra.js'
import { createFaults, type Faults } from './faults.js'
import { GitHubApi, githubRoutes, type IssueComment } from './github.js'
import { historyRoutes } from './history.js'
import { mlflowRoutes } from './mlflow.js'
import { modelRoutes } from './models.js'
import type { Seed, SeedClient } from './seed.js'
import { startServer, type LogEntry, type ServerSettings } from './server.js'
import { workspaceArmId, type Counters, type Services } from './services.js'
import { State } from './state.js'
import { ensureCertificates, trustCertificateInProcess } from './tls.js'

export type {
  ArtifactProperties,
  Counters,
  Faults,
  IssueComment,
  LogEntry,
  Seed,
  SeedClient,
  State
}
export type { ServerSettings } from './server.js'
export type { FaultRule } from './faults.js'
export type {
  SeedJob,
  SeedChildRun,
  SeedMlflow,
  SeedModel,
  SeedModelVersion,
  Role
} from './seed.js'
export { trustCertificateInProcess } from './tls.js'
export { irisSeedPath } from './seed.js'

export interface EmulatorOptions {
  /** Seed object or JSON file path; default: the iris demo workspace (seeds/iris.json). */
  seed?: Seed | string
  /** Persist state here after every write; an existing file is loaded instead of the seed. */
  statePath?: string
  /** Port for the HTTPS server on 127.0.0.1; default 0 (random). */
  port?: number
  /** Wait this long before handling every request (imitates a distant region). */
  latencyMs?: number
  /** Hand out SAS URLs that point straight at Azurite instead of the emulator's blob proxy. */
  directBlob?: boolean
  /** Certificates and Azurite data go here; default a temp dir removed by stop(). */
  dataDir?: string
  /** Default page size of run-history children lists (default 5, so paging is exercised). */
  childPageSize?: number
  /** Trust the emulator's CA in this process (for in-process tests); default false. */
  trustInProcess?: boolean
  /** Keep JSON bodies of ARM and data-plane calls in the request log; default false. */
  logBodies?: boolean
  /** `azure`: store a rewritten modelUri on version PUT, as Azure may; default `echo`. */
  modelUriMode?: 'echo' | 'azure'
  /** How the model versions list reads `$top`: `page` (default) or `cap`. */
  topReading?: 'page' | 'cap'
  /** ARM api-versions served; default ['2022-10-01'] (what @azure/arm-machinelearning pins). */
  armApiVersions?: string[]
}

export interface Emulator {
  /** https://127.0.0.1:PORT — ARM endpoint, Entra authority host, GitHub OIDC, blob proxy. */
  url: string
  /** https://localhost:PORT — the data-plane host the workspace advertises. */
  apiUrl: string
  azuriteUrl: string
  caCertPath: string
  caCert: string
  dataDir: string
  tenantId: string
  subscriptionId: string
  resourceGroup: string
  workspaceName: string
  /** ARM id of the workspace (`/subscriptions/.../workspaces/{ws}`). */
  workspaceId: string
  clients: SeedClient[]
  oidc: { requestUrl: string; requestToken: string }
  /** Environment for a child process that should talk to this emulator. */
  env(): Record<string, string>
  state: State
  faults: Faults
  setLatency(ms: number): void
  /** Live server settings: latency, logBodies, modelUriMode, topReading, armApiVersions. */
  settings: ServerSettings
  requestLog: LogEntry[]
  clearLog(): void
  counters: Counters
  /** GitHub's REST API (issue comments) at `apiUrl`, the value of GITHUB_API_URL. */
  github: {
    apiUrl: string
    /** The token the API accepts (what `\${{ github.token }}` would be) */
    token: string
    comments(owner: string, repo: string, issue: number): IssueComment[]
    /** A fork's pull request: writes answer 403 'Resource not accessible by integration' */
    setReadOnly(readOnly: boolean): void
  }
  readArtifact(runId: string, path: string): Promise<Buffer>
  artifactProperties(runId: string, path: string): Promise<ArtifactProperties | null>
  stop(): Promise<void>
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const ownDataDir = !opts.dataDir
  const dataDir = opts.dataDir
    ? resolve(opts.dataDir)
    : mkdtempSync(resolve(tmpdir(), 'azureml-emu-'))
  mkdirSync(dataDir, { recursive: true })
  // A stack: stop() undoes startup in reverse (proxy, server, Azurite, then the temp dir).
  const cleanups: Array<() => Promise<void> | void> = []
  if (ownDataDir) cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
  try {
    const certs = await ensureCertificates(dataDir)
    if (opts.trustInProcess) trustCertificateInProcess(certs.caCert)
    const state = new State(opts.seed, opts.statePath ? resolve(opts.statePath) : undefined)
    const faults = createFaults()
    const settings: ServerSettings = {
      latencyMs: opts.latencyMs ?? 0,
      logBodies: opts.logBodies ?? false,
      modelUriMode: opts.modelUriMode ?? 'echo',
      topReading: opts.topReading ?? 'page',
      armApiVersions: opts.armApiVersions ?? ['2022-10-01']
    }
    const log: LogEntry[] = []
    // Handlers get the services once Azurite is up; no client knows the port before that.
    const ready: { services?: Services } = {}
    const azuritePromise = startAzurite({
      dataDir,
      certPath: certs.certPath,
      keyPath: certs.keyPath,
      ca: certs.caCert
    })
    cleanups.push(() =>
      azuritePromise.then(
        a => a.stop(),
        () => undefined
      )
    )
    const server = await startServer({
      cert: certs.cert,
      key: certs.key,
      port: opts.port ?? 0,
      routes: [
        ...entraRoutes,
        ...githubRoutes,
        ...armRoutes,
        ...modelRoutes,
        ...historyRoutes,
        ...mlflowRoutes,
        ...blobRoutes,
        ...adminRoutes
      ],
      log,
      services: () => ready.services as Services,
      faults,
      settings
    })
    cleanups.push(() => server.close())
    const azurite = await azuritePromise.catch(err => {
      throw new Error(`Azurite failed to start: ${(err as Error).message}`)
    })
    const url = `https://127.0.0.1:${server.port}`
    const blob = new BlobStore(azurite.url, opts.directBlob ? azurite.url : url, certs.caCert)
    cleanups.push(() => blob.close())
    const services: Services = {
      state,
      keys: { entra: randomBytes(32), github: randomBytes(32) },
      url,
      apiUrl: `https://localhost:${server.port}`,
      oidcRequestToken: randomBytes(16).toString('hex'),
      childPageSize: opts.childPageSize ?? 5,
      counters: { githubIdTokens: 0, entraTokens: 0, entraAssertions: 0 },
      blob,
      github: new GitHubApi(),
      faults,
      settings,
      log
    }
    ready.services = services
    return emulatorObject(
      services,
      { dataDir, caCertPath: certs.caCertPath, caCert: certs.caCert, azuriteUrl: azurite.url },
      cleanups
    )
  } catch (err) {
    await runCleanups(cleanups)
    throw err
  }
}

function emulatorObject(
  svc: Services,
  files: { dataDir: string; caCertPath: string; caCert: string; azuriteUrl: string },
  cleanups: Array<() => Promise<void> | void>
): Emulator {
  const d = svc.state.data
  const requestUrl = `${svc.url}/_github/oidc/token?api-version=2.0`
  let stopped: Promise<void> | undefined
  const secretClient = d.clients.find(
    c => c.clientSecret && (c.role ?? 'AzureML Data Scientist') !== 'none'
  )
  const federatedClient = d.clients.find(c => c.federated)
  return {
    url: svc.url,
    apiUrl: svc.apiUrl,
    ...files,
    tenantId: d.tenantId,
    subscriptionId: d.subscriptionId,
    resourceGroup: d.resourceGroup,
    workspaceName: d.workspace.name,
    workspaceId: workspaceArmId(svc),
    clients: d.clients,
    oidc: { requestUrl, requestToken: svc.oidcRequestToken },
    env: () => ({
      NODE_EXTRA_CA_CERTS: files.caCertPath,
      AZURE_AUTHORITY_HOST: svc.url,
      AZURE_TENANT_ID: d.tenantId,
      AZURE_SUBSCRIPTION_ID: d.subscriptionId,
      ...(secretClient
        ? {
            AZURE_CLIENT_ID: secretClient.clientId,
            AZURE_CLIENT_SECRET: secretClient.clientSecret ?? ''
          }
        : {}),
      ...(federatedClient ? { AZUREML_FEDERATED_CLIENT_ID: federatedClient.clientId } : {}),
      AZUREML_ARM_ENDPOINT: svc.url,
      AZUREML_RESOURCE_GROUP: d.resourceGroup,
      AZUREML_WORKSPACE: d.workspace.name,
      ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: svc.oidcRequestToken,
      GITHUB_API_URL: `${svc.url}/_github/api`
    }),
    state: svc.state,
    faults: {
      add: r => svc.faults.add(r),
      clear: () => svc.faults.clear(),
      stats: () => svc.faults.stats(),
      pending: () => svc.faults.pending()
    },
    setLatency: ms => void (svc.settings.latencyMs = ms),
    settings: svc.settings,
    requestLog: svc.log,
    clearLog: () => void svc.log.splice(0),
    counters: svc.counters,
    github: {
      apiUrl: `${svc.url}/_github/api`,
      token: svc.github.token,
      comments: (owner, repo, issue) =>
        svc.github.comments.filter(c => c.owner === owner && c.repo === repo && c.issue === issue),
      setReadOnly: readOnly => void (svc.github.readOnly = readOnly)
    },
    readArtifact: (runId, path) => svc.blob.read(runId, path),
    artifactProperties: (runId, path) => svc.blob.properties(runId, path),
    stop: () => (stopped ??= runCleanups(cleanups))
  }
}

async function runCleanups(cleanups: Array<() => Promise<void> | void>): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup()
    } catch {
      // Best effort: one failing step must not leave Azurite or the temp dir behind.
    }
  }
}
