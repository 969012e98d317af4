import { AzureCallError, UserError } from '../errors.js'
import type { ModelFiles } from '../modelfiles.js'
import { blobContent, fileMd5, uploadFile } from './blobs.js'
import { callError } from './http.js'
import type { RunInfo } from './runs.js'
import type { Workspace } from './workspace.js'

/**
 * The model as an artifact of the pipeline run, so the registered model links back to how it
 * was built. Run artifacts are immutable: a path that already exists is reused when its bytes
 * are the same (a re-run), and is an error otherwise.
 */
export interface UploadResult {
  artifactUri: string
  files: number
  bytes: number
  /** Files that were already in the run with the same content (a re-run) */
  reused: number
}

interface ContentInformation {
  contentUri?: string
}

interface BatchMetadata {
  artifactContentInformation?: Record<string, ContentInformation>
  errors?: Record<string, { code?: string; message?: string }>
}

/** Paths per metadata call: a folder of thousands of files still takes few round trips. */
const PATHS_PER_CALL = 500
const FILE_CONCURRENCY = 4

export function artifactUriOf(runId: string, artifactPath: string, model: ModelFiles): string {
  return `azureml://jobs/${runId}/outputs/artifacts/paths/${artifactPath}${model.kind === 'folder' ? '/' : ''}`
}

export async function uploadToRun(
  ws: Workspace,
  run: RunInfo,
  model: ModelFiles,
  artifactPath: string
): Promise<UploadResult> {
  const runUrl = await runUrlOf(ws, run)
  const targets = model.files.map(file => ({ file, path: pathInRun(artifactPath, file) }))
  let reused = 0
  for (let start = 0; start < targets.length; start += PATHS_PER_CALL) {
    const batch = targets.slice(start, start + PATHS_PER_CALL)
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
    await forEachLimit(batch, FILE_CONCURRENCY, async ({ file, path }) => {
      const contentUri = body?.artifactContentInformation?.[path]?.contentUri
      if (contentUri) {
        await uploadFile(file.absolutePath, file.size, contentUri).catch(error => {
          const failure = callError(`Upload artifact ${path} to run ${run.id}`, error, {
            viaSas: true
          })
          throw interrupted(failure, path)
        })
        return
      }
      const error = body?.errors?.[path]
      if (!error || !/already exists|conflict/i.test(error.message ?? error.code ?? '')) {
        throw new UserError(
          `Run history refused artifact '${path}' in run ${run.id}: ${error?.message ?? 'no content URI'}.`
        )
      }
      await checkSameContent(ws, runUrl, run.id, path, file.absolutePath, file.size)
      reused++
    })
  }
  return {
    artifactUri: artifactUriOf(run.id, artifactPath, model),
    files: targets.length,
    bytes: model.totalBytes,
    reused
  }
}

/** An existing artifact is ours only if its size and MD5 match the local file. */
async function checkSameContent(
  ws: Workspace,
  runUrl: string,
  runId: string,
  path: string,
  localPath: string,
  size: number
): Promise<void> {
  const info = await contentInformation(ws, runUrl, runId, path)
  const contentUri = info.body?.contentUri
  const existing = contentUri
    ? await blobContent(contentUri).catch(error => {
        throw callError(`Read artifact ${path} of run ${runId}`, error, { viaSas: true })
      })
    : undefined
  // Created, but its bytes never landed: the upload that created it was interrupted (or its
  // answer was lost and the request retried). No write access is handed out for an existing
  // artifact, so that path cannot be completed.
  if (!existing || (existing.size === 0 && size > 0)) {
    throw new UserError(
      `Artifact ${path} exists in run ${runId} but has no content: an earlier upload to it was interrupted, and run artifacts cannot be rewritten; set artifact-path to another path (e.g. ${another(path)}).`
    )
  }
  const same =
    existing.size === size && existing.md5 !== '' && existing.md5 === (await fileMd5(localPath))
  if (!same) {
    throw new UserError(
      `Artifact ${path} already exists in run ${runId} with different content; set artifact-path to another path (e.g. ${another(path)}).`
    )
  }
}

/** A sibling path for the advice: model.pkl → model-2.pkl. */
function another(path: string): string {
  return path.replace(/(\.[^./]*)?$/, '-2$1')
}

/** An upload that failed leaves the artifact created but empty: say what a re-run needs. */
function interrupted(failure: AzureCallError, path: string): AzureCallError {
  return new AzureCallError(
    failure.operation,
    failure.status,
    `${failure.message} The run keeps artifact ${path} without content, and run artifacts cannot be rewritten: set artifact-path to another path (e.g. ${another(path)}) before re-running.`,
    failure.detail,
    failure.grant
  )
}

/** Whether the run already holds this model's first file (for dry-run's re-run detection). */
export async function artifactExists(
  ws: Workspace,
  run: RunInfo,
  model: ModelFiles,
  artifactPath: string
): Promise<boolean> {
  const path = pathInRun(artifactPath, model.files[0])
  const info = await contentInformation(ws, await runUrlOf(ws, run), run.id, path)
  return info.status !== 404 && Boolean(info.body?.contentUri)
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

async function forEachLimit<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<void>
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
