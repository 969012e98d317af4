// Artifact blobs: SAS signing with Azurite's well-known dev account, a streaming proxy so blob
// traffic crosses the emulator (faults, latency, request log), and read-back helpers for tests.
import https from 'node:https'
import {
  BlobSASPermissions,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters
} from '@azure/storage-blob'
import type { Ctx, Route } from './http.js'
import { HttpError, sendPlaneError } from './http.js'

export const DEV_ACCOUNT = 'devstoreaccount1'
/** Azurite's published development key; not a secret. */
export const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export const CONTAINER = 'azureml'
const SAS_MINUTES = 30

export interface ArtifactProperties {
  size: number
  /** Base64 MD5 as the service reports it; null when the blob has none (block-list uploads). */
  contentMD5: string | null
}

export class BlobStore {
  private readonly credential = new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY)
  private readonly agent: https.Agent

  constructor(
    /** https://127.0.0.1:AZURITE_PORT */
    readonly azuriteUrl: string,
    /** Where SAS URLs point: the emulator's proxy, or Azurite itself (`directBlob`). */
    readonly publicUrl: string,
    ca: string
  ) {
    this.agent = new https.Agent({ keepAlive: true, ca })
  }

  blobName(runId: string, path: string): string {
    return `ExperimentRun/dcid.${runId}/${path}`
  }

  /** A SAS URL for one artifact blob: `cw` to upload, `r` to read. */
  sasUrl(runId: string, path: string, permissions: 'cw' | 'r', base = this.publicUrl): string {
    const blobName = this.blobName(runId, path)
    const sas = generateBlobSASQueryParameters(
      {
        containerName: CONTAINER,
        blobName,
        permissions: BlobSASPermissions.parse(permissions),
        startsOn: new Date(Date.now() - 5 * 60_000),
        expiresOn: new Date(Date.now() + SAS_MINUTES * 60_000),
        protocol: SASProtocol.Https
      },
      this.credential
    ).toString()
    const encoded = blobName.split('/').map(encodeURIComponent).join('/')
    return `${base}/${DEV_ACCOUNT}/${CONTAINER}/${encoded}?${sas}`
  }

  async read(runId: string, path: string): Promise<Buffer> {
    const res = await this.request('GET', this.sasUrl(runId, path, 'r', this.azuriteUrl))
    if (res.status !== 200)
      throw new Error(`Artifact ${runId}/${path}: blob answered ${res.status}`)
    return res.body
  }

  async properties(runId: string, path: string): Promise<ArtifactProperties | null> {
    const res = await this.request('HEAD', this.sasUrl(runId, path, 'r', this.azuriteUrl))
    if (res.status === 404) return null
    if (res.status !== 200)
      throw new Error(`Artifact ${runId}/${path}: blob answered ${res.status}`)
    const md5 = res.headers['content-md5']
    return {
      size: Number(res.headers['content-length']),
      contentMD5: typeof md5 === 'string' ? md5 : null
    }
  }

  /** One request straight to Azurite (used by the launcher and the read-back helpers). */
  request(
    method: string,
    url: string,
    headers: Record<string, string> = {}
  ): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: this.agent }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks)
          })
        )
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
  }

  /** Streams one request to Azurite and its answer back; bodies are piped, never buffered. */
  proxy(ctx: Ctx): Promise<void> {
    const target = new URL(this.azuriteUrl)
    const headers = { ...ctx.req.headers, host: target.host }
    delete headers.connection
    return new Promise(resolve => {
      const upstream = https.request(
        {
          host: target.hostname,
          port: target.port,
          method: ctx.method,
          path: ctx.req.url,
          headers,
          agent: this.agent
        },
        res => {
          const out = { ...res.headers }
          delete out.connection
          delete out['keep-alive']
          ctx.res.writeHead(res.statusCode ?? 502, out)
          res.pipe(ctx.res)
          res.on('end', resolve)
          res.on('error', () => (ctx.res.destroy(), resolve()))
        }
      )
      upstream.on('error', err => {
        sendPlaneError(ctx, 'blob', new HttpError(502, 'ProxyError', `Blob proxy: ${err.message}`))
        resolve()
      })
      // The client going away mid-request must not leave a half-written blob request open.
      ctx.res.on('close', () => {
        if (!ctx.res.writableFinished) upstream.destroy()
      })
      ctx.req.on('data', (c: Buffer) => (ctx.bytesIn += c.length))
      ctx.req.pipe(upstream)
    })
  }

  close(): void {
    this.agent.destroy()
  }
}

/** Route ids follow the Blob REST operation, so faults can target one step of an upload. */
function blobRouteId(ctx: Ctx): string {
  const comp = ctx.url.searchParams.get('comp')
  if (ctx.method === 'PUT' && comp === 'block') return 'blob.block'
  if (ctx.method === 'PUT' && comp === 'blocklist') return 'blob.blocklist'
  if (ctx.method === 'PUT' && !comp) return 'blob.put'
  if ((ctx.method === 'GET' || ctx.method === 'HEAD') && !comp) return 'blob.read'
  return 'blob.other'
}

export const blobRoutes: Route[] = [
  {
    id: blobRouteId,
    plane: 'blob',
    methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'],
    pattern: new RegExp(`^/${DEV_ACCOUNT}(/.*)?$`),
    handle: ctx => ctx.svc.blob.proxy(ctx)
  }
]
