import type { ModelFiles } from '../modelfiles.js'

/**
 * What a folder upload holds, written as one more run artifact beside the folder once every
 * file has landed: a re-run reads this one artifact instead of every file's blob properties.
 * Artifacts are immutable, so a manifest that exists describes a complete upload for good.
 */
export interface Manifest {
  format: typeof MANIFEST_FORMAT
  /** Relative path in the folder → size and base64 Content-MD5, as recorded on each blob */
  files: Record<string, { size: number; md5: string }>
}

export const MANIFEST_FORMAT = 'azureml-model-gate/folder-manifest@1'

/** Beside the folder, not in it: the registered model URI names the folder alone. */
export function manifestPath(artifactPath: string): string {
  return `${artifactPath}.gate-manifest.json`
}

export function buildManifest(
  files: ModelFiles['files'],
  md5s: ReadonlyMap<string, string>
): Manifest {
  const entries = files.map(file => [
    file.relativePath,
    { size: file.size, md5: md5s.get(file.relativePath) ?? '' }
  ])
  return { format: MANIFEST_FORMAT, files: Object.fromEntries(entries) }
}

/** The manifest in an artifact's bytes, or undefined when they are not one (then unusable). */
export function parseManifest(text: string): Manifest | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const manifest = parsed as Partial<Manifest> | null
  if (manifest?.format !== MANIFEST_FORMAT || typeof manifest.files !== 'object') return undefined
  if (manifest.files === null || Array.isArray(manifest.files)) return undefined
  for (const entry of Object.values(manifest.files)) {
    if (typeof entry?.size !== 'number' || typeof entry.md5 !== 'string') return undefined
  }
  return manifest as Manifest
}

/**
 * The first file where the uploaded folder and the local one differ (a file missing on either
 * side, another size or MD5), or undefined when they hold the same files with the same bytes.
 */
export function firstDifference(
  manifest: Manifest,
  files: ModelFiles['files'],
  md5s: ReadonlyMap<string, string>
): string | undefined {
  const uploaded = new Map(Object.entries(manifest.files))
  for (const file of files) {
    const entry = uploaded.get(file.relativePath)
    const md5 = md5s.get(file.relativePath)
    if (!entry || entry.size !== file.size || !md5 || entry.md5 !== md5) return file.relativePath
    uploaded.delete(file.relativePath)
  }
  return uploaded.keys().next().value
}
