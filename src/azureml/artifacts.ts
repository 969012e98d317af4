import { AzureCallError, UserError } from '../errors.js'
import type { ModelFiles } from '../modelfiles.js'
import {
  blobContent,
  blobText,
  fileMd5,
  loadBlobClientEarly,
  uploadBytes,
  uploadFile,
  type BlobContent
} from './blobs.js'
import {
  buildManifest,
  firstDifference,
  manifestPath,
  parseManifest,
  type Manifest
} from './manifest.js'
import { callError } from './http.js'
import { nextRequestWritten } from './inflight.js'
import type { RunInfo } from './runs.js'
import type { Workspace } from './workspace.js'

/**
 * The model as an artifact of the pipeline run, so the registered model links back to how it
 * was built. Run artifacts are immutable and run history hands out no write access to an
 * existing one, so an upload that was cut off leaves an empty artifact behind for good: the
 * model then goes to the next free sibling path (model.pkl → model.1.pkl), where a re-run
 * finds it again by walking the same sequence.
 */
export interface UploadResult {
  /** Where the model landed in the run: artifact-path, or a sibling of it */
  artifactPath: string
  artifactUri: string
  files: number
  bytes: number
  /** Files that were already in the run with the same content (a re-run) */
  reused: number
}

interface ContentInformation {
  contentUri?: string | null
}

/** run-history.json ErrorResponse: a RootError under `error`, plus correlation details. */
interface ErrorResponse {
  error?: { code?: string | null; message?: string | null } | null
}

interface BatchMetadata {
  artifactContentInformation?: Record<string, ContentInformation> | null
  errors?: Record<string, ErrorResponse> | null
}

/** Paths per metadata call: the batch size of the official clients. */
export const PATHS_PER_CALL = 50
/** Files in flight: small files cost a round trip each, so latency, not bandwidth, bounds them. */
const FILE_CONCURRENCY = 16
/** Sibling paths tried after interrupted uploads, before asking for another artifact-path. */
const MAX_SIBLINGS = 20

type Target = { file: ModelFiles['files'][number]; path: string }
type Existing = 'same' | 'empty' | 'different'

export function artifactUriOf(runId: string, artifactPath: string, model: ModelFiles): string {
  return `azureml://jobs/${runId}/outputs/artifacts/paths/${artifactPath}${model.kind === 'folder' ? '/' : ''}`
}

/** The n-th sibling of an artifact path: model.pkl → model.1.pkl, model (a folder) → model.1. */
export function siblingPath(artifactPath: string, n: number, kind: ModelFiles['kind']): string {
  if (n === 0) return artifactPath
  const slash = artifactPath.lastIndexOf('/')
  const [dir, base] = [artifactPath.slice(0, slash + 1), artifactPath.slice(slash + 1)]
  const dot = kind === 'file' ? base.lastIndexOf('.') : -1
  return dot > 0 ? `${dir}${base.slice(0, dot)}.${n}${base.slice(dot)}` : `${dir}${base}.${n}`
}

export async function uploadToRun(
  ws: Workspace,
  run: RunInfo,
  model: ModelFiles,
  artifactPath: string,
  log: (message: string) => void = () => undefined
): Promise<UploadResult> {
  const runUrl = await runUrlOf(ws, run)
  for (let n = 0; n <= MAX_SIBLINGS; n++) {
    const path = siblingPath(artifactPath, n, model.kind)
    const outcome = await uploadAt(ws, runUrl, run, model, path)
    if ('reused' in outcome) {
      return {
        artifactPath: path,
        artifactUri: artifactUriOf(run.id, path, model),
        files: model.files.length,
        bytes: model.totalBytes,
        reused: outcome.reused
      }
    }
    log(
      `Artifact ${outcome.empty} of run ${run.id} has no content (an earlier upload to it was interrupted, and run artifacts cannot be rewritten); trying ${siblingPath(artifactPath, n + 1, model.kind)}`
    )
  }
  throw new UserError(
    `Artifact ${artifactPath} of run ${run.id} and its ${MAX_SIBLINGS} sibling paths all hold interrupted uploads; set artifact-path to another path.`
  )
}

/** Uploads the model at one path, or names the empty artifact that rules that path out. */
async function uploadAt(
  ws: Workspace,
  runUrl: string,
  run: RunInfo,
  model: ModelFiles,
  artifactPath: string
): Promise<{ reused: number } | { empty: string }> {
  const folder = model.kind === 'folder'
  const manifest = folder ? await readManifest(ws, runUrl, run, artifactPath) : undefined
  if (manifest) {
    const difference = firstDifference(manifest, model.files, await localMd5s(model.files))
    if (difference === undefined) return { reused: model.files.length }
    throw differentContent(`${artifactPath}/${difference}`, run, artifactPath, model)
  }
  const outcome = await uploadFiles(ws, runUrl, run, model, artifactPath)
  if (folder && 'md5s' in outcome) {
    const missing = model.files.filter(file => !outcome.md5s.has(file.relativePath))
    for (const [path, md5] of await localMd5s(missing)) outcome.md5s.set(path, md5)
    await writeManifest(ws, runUrl, run, artifactPath, buildManifest(model.files, outcome.md5s))
  }
  return 'md5s' in outcome ? { reused: outcome.reused } : outcome
}

/**
 * Creates the artifacts 50 paths at a time, the next batch while the files of the one before
 * upload, and keeps FILE_CONCURRENCY files in flight across batch boundaries. Existing paths
 * are checked file by file (an interrupted upload left them, or this run's upload did).
 */
async function uploadFiles(
  ws: Workspace,
  runUrl: string,
  run: RunInfo,
  model: ModelFiles,
  artifactPath: string
): Promise<{ reused: number; md5s: Map<string, string> } | { empty: string }> {
  const targets: Target[] = model.files.map(file => ({
    file,
    path: pathInRun(artifactPath, file)
  }))
  const batches: Target[][] = []
  for (let start = 0; start < targets.length; start += PATHS_PER_CALL) {
    batches.push(targets.slice(start, start + PATHS_PER_CALL))
  }
  const limit = limiter(FILE_CONCURRENCY)
  const md5s = new Map<string, string>()
  const uploads: Promise<void>[][] = []
  let reused = 0
  let next: Promise<Map<string, string>> | undefined = createArtifacts(ws, runUrl, run, batches[0])
  // The blob SDK loads while that request waits for its answer, not after it.
  void nextRequestWritten(next).then(loadBlobClientEarly)
  try {
    for (const [i, batch] of batches.entries()) {
      const created: Map<string, string> = await next!
      next = i + 1 < batches.length ? createArtifacts(ws, runUrl, run, batches[i + 1]) : undefined
      next?.catch(() => undefined) // awaited on the next turn, or abandoned with this one
      const existing = batch.filter(target => !created.has(target.path))
      const states = await Promise.all(
        existing.map(target => limit(() => existingContent(ws, runUrl, run.id, target)))
      )
      const empty = existing.find((_, i) => states[i] === 'empty')
      if (empty) return { empty: empty.path }
      const different = existing.find((_, i) => states[i] === 'different')
      if (different) throw differentContent(different.path, run, artifactPath, model)
      reused += existing.length
      const fresh = batch.filter(target => created.has(target.path))
      const started = fresh.map(target =>
        limit(() => uploadOne(run, target, created.get(target.path)!, artifactPath, model)).then(
          content => void md5s.set(target.file.relativePath, content.md5)
        )
      )
      // Handled here; a failure still rejects the Promise.all that awaits it.
      for (const upload of started) upload.catch(() => undefined)
      uploads.push(started)
      // At most two batches of files queued: the listing stays one batch ahead, no further.
      if (uploads.length >= 2) await Promise.all(uploads[uploads.length - 2])
    }
    await Promise.all(uploads.flat())
  } finally {
    // Nothing keeps writing after this returns or throws.
    await Promise.allSettled(uploads.flat())
  }
  return { reused, md5s }
}
/**
 * Creates the batch's artifacts: the write SAS of each new one. A path that exists already
 * comes back under `errors` (an ErrorResponse); any other refusal is an error.
 */
async function createArtifacts(
  ws: Workspace,
  runUrl: string,
  run: RunInfo,
  batch: { path: string }[]
): Promise<Map<string, string>> {
  const { status, body } = await ws.dataPlane.send<BatchMetadata>(
    `Create artifacts in run ${run.id}`,
    {
      method: 'POST',
      url: `${runUrl}/artifacts/batch/metadata`,
      body: { paths: batch.map(target => ({ path: target.path })) }
    }
  )
  if (status === 404) {
    throw new UserError(
      `Run '${run.id}' (experiment '${run.experimentName}') was not found in run history.`
    )
  }
  const created = new Map<string, string>()
  for (const { path } of batch) {
    const contentUri = ownEntry(body?.artifactContentInformation, path)?.contentUri
    if (contentUri) {
      created.set(path, contentUri)
      continue
    }
    const error = ownEntry(body?.errors, path)?.error
    const said = error?.message ?? error?.code ?? ''
    if (!error || !/already exists|conflict/i.test(said)) {
      throw new UserError(
        `Run history refused artifact '${path}' in run ${run.id}: ${said || 'no content URI'}.`
      )
    }
  }
  return created
}

/** An existing artifact is ours only if its size and MD5 match the local file. */
async function existingContent(
  ws: Workspace,
  runUrl: string,
  runId: string,
  { file, path }: Target
): Promise<Existing> {
  const info = await contentInformation(ws, runUrl, runId, path)
  const contentUri = info.status === 404 ? undefined : info.body?.contentUri
  const existing = contentUri
    ? await blobContent(contentUri).catch(error => {
        throw callError(`Read artifact ${path} of run ${runId}`, error, { viaSas: true })
      })
    : undefined
  // Created, but its bytes never landed: the upload that created it was interrupted (or its
  // answer was lost and the request retried).
  if (!existing || (existing.size === 0 && file.size > 0)) return 'empty'
  const same =
    existing.size === file.size &&
    existing.md5 !== '' &&
    existing.md5 === (await fileMd5(file.absolutePath))
  return same ? 'same' : 'different'
}

/** An upload that failed leaves the artifact created but empty: say what a re-run does. */
function interrupted(failure: AzureCallError, path: string, next: string): AzureCallError {
  return new AzureCallError(
    failure.operation,
    failure.status,
    `${failure.message} The run keeps artifact ${path} without content (run artifacts cannot be rewritten); a re-run uploads the model to the next free path (${next}).`,
    failure.detail,
    failure.grant
  )
}

/**
 * Where an earlier run of this step uploaded this model, looking only (for dry-run): the first
 * path of the sibling sequence that holds the same bytes, judged on every file by a folder's
 * manifest, else on the first file.
 */
export async function findUpload(
  ws: Workspace,
  run: RunInfo,
  model: ModelFiles,
  artifactPath: string
): Promise<string | undefined> {
  const runUrl = await runUrlOf(ws, run)
  for (let n = 0; n <= MAX_SIBLINGS; n++) {
    const path = siblingPath(artifactPath, n, model.kind)
    const manifest = model.kind === 'folder' ? await readManifest(ws, runUrl, run, path) : undefined
    if (manifest) {
      const difference = firstDifference(manifest, model.files, await localMd5s(model.files))
      return difference === undefined ? path : undefined
    }
    const first = { file: model.files[0], path: pathInRun(path, model.files[0]) }
    const info = await contentInformation(ws, runUrl, run.id, first.path)
    if (info.status === 404) return undefined
    const state = await existingContent(ws, runUrl, run.id, first)
    if (state === 'same') return path
    if (state === 'different') return undefined
  }
  return undefined
}

function uploadOne(
  run: RunInfo,
  { file, path }: Target,
  sasUrl: string,
  artifactPath: string,
  model: ModelFiles
): Promise<BlobContent> {
  return uploadFile(file.absolutePath, file.size, sasUrl).catch(error => {
    const failure = callError(`Upload artifact ${path} to run ${run.id}`, error, { viaSas: true })
    throw interrupted(failure, path, siblingPath(artifactPath, 1, model.kind))
  })
}

function differentContent(
  path: string,
  run: RunInfo,
  artifactPath: string,
  model: ModelFiles
): UserError {
  return new UserError(
    `Artifact ${path} already exists in run ${run.id} with different content; set artifact-path to another path (e.g. ${siblingPath(artifactPath, 1, model.kind)}).`
  )
}

/**
 * The manifest of a folder uploaded at `artifactPath`: undefined when there is none, or when
 * it cannot be used (its own upload was cut off): then every file is checked on its own.
 */
async function readManifest(
  ws: Workspace,
  runUrl: string,
  run: RunInfo,
  artifactPath: string
): Promise<Manifest | undefined> {
  const path = manifestPath(artifactPath)
  const info = await contentInformation(ws, runUrl, run.id, path)
  const contentUri = info.status === 404 ? undefined : info.body?.contentUri
  if (!contentUri) return undefined
  const text = await blobText(contentUri).catch(error => {
    throw callError(`Read artifact ${path} of run ${run.id}`, error, { viaSas: true })
  })
  return text === undefined ? undefined : parseManifest(text)
}

/**
 * Written once every file has landed, so that it only ever describes a complete upload. A
 * manifest path that exists already (an earlier write of it was cut off) stays as it is.
 */
async function writeManifest(
  ws: Workspace,
  runUrl: string,
  run: RunInfo,
  artifactPath: string,
  manifest: Manifest
): Promise<void> {
  const path = manifestPath(artifactPath)
  const created = await createArtifacts(ws, runUrl, run, [{ path }])
  const sasUrl = created.get(path)
  if (!sasUrl) return
  await uploadBytes(Buffer.from(JSON.stringify(manifest)), sasUrl).catch(error => {
    throw callError(`Upload artifact ${path} to run ${run.id}`, error, { viaSas: true })
  })
}

/** Base64 MD5 of each local file, by relative path. */
async function localMd5s(files: ModelFiles['files']): Promise<Map<string, string>> {
  const limit = limiter(FILE_CONCURRENCY)
  const md5s = await Promise.all(files.map(file => limit(() => fileMd5(file.absolutePath))))
  return new Map(files.map((file, i) => [file.relativePath, md5s[i]]))
}

/** Runs at most `n` tasks at once, in the order they were handed over. */
function limiter(n: number): <R>(task: () => Promise<R>) => Promise<R> {
  let running = 0
  const waiting: (() => void)[] = []
  return async task => {
    if (running >= n) await new Promise<void>(resolve => waiting.push(resolve))
    else running++
    try {
      return await task()
    } finally {
      const wake = waiting.shift()
      if (wake) wake()
      else running--
    }
  }
}

/** Run history's URL of one run, under which its artifacts live. */
async function runUrlOf(ws: Workspace, run: RunInfo): Promise<string> {
  const experiment = encodeURIComponent(run.experimentName)
  return `${await ws.historyUrl()}/experiments/${experiment}/runs/${encodeURIComponent(run.id)}`
}

/** Where a model file goes in the run: the artifact path, or a file below it for a folder. */
function pathInRun(artifactPath: string, file: ModelFiles['files'][number]): string {
  return file.relativePath ? `${artifactPath}/${file.relativePath}` : artifactPath
}

/** An existing artifact's content information (a read SAS), or a 404. */
function contentInformation(ws: Workspace, runUrl: string, runId: string, path: string) {
  return ws.dataPlane.send<ContentInformation>(`Read artifact ${path} of run ${runId}`, {
    method: 'GET',
    url: `${runUrl}/artifacts/contentinfo?path=${encodeURIComponent(path)}`
  })
}

/** A map entry of a service answer, never an inherited member. */
function ownEntry<T>(map: Record<string, T> | null | undefined, key: string): T | undefined {
  return map && Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined
}
