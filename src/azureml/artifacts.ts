import { UserError } from '../errors.js'
import type { ModelFiles } from '../modelfiles.js'
import { blobContent, fileMd5, uploadFile } from './blobs.js'
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
  const runUrl = `${await ws.historyUrl()}/experiments/${encodeURIComponent(run.experimentName)}/runs/${encodeURIComponent(run.id)}`
  const targets = model.files.map(file => ({
    file,
    path: file.relativePath ? `${artifactPath}/${file.relativePath}` : artifactPath
  }))
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
        await uploadFile(file.absolutePath, file.size, contentUri)
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
  const info = await ws.dataPlane.send<ContentInformation>(
    `Read artifact ${path} of run ${runId}`,
    {
      method: 'GET',
      url: `${runUrl}/artifacts/contentinfo?path=${encodeURIComponent(path)}`
    }
  )
  const existing = info.body?.contentUri ? await blobContent(info.body.contentUri) : undefined
  const same =
    existing &&
    existing.size === size &&
    existing.md5 !== '' &&
    existing.md5 === (await fileMd5(localPath))
  if (!same) {
    throw new UserError(
      `Artifact ${path} already exists in run ${runId} with different content; set artifact-path to another path (e.g. ${path.replace(/(\.[^./]*)?$/, '-2$1')}).`
    )
  }
}

/** Whether the run already holds this model's first file (for dry-run's re-run detection). */
export async function artifactExists(
  ws: Workspace,
  run: RunInfo,
  model: ModelFiles,
  artifactPath: string
): Promise<boolean> {
  const first = model.files[0]
  const path = first.relativePath ? `${artifactPath}/${first.relativePath}` : artifactPath
  const runUrl = `${await ws.historyUrl()}/experiments/${encodeURIComponent(run.experimentName)}/runs/${encodeURIComponent(run.id)}`
  const info = await ws.dataPlane.send<ContentInformation>(
    `Read artifact ${path} of run ${run.id}`,
    {
      method: 'GET',
      url: `${runUrl}/artifacts/contentinfo?path=${encodeURIComponent(path)}`
    }
  )
  return info.status !== 404 && Boolean(info.body?.contentUri)
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
