import fs from 'node:fs'
import path from 'node:path'
import { InputError } from './errors.js'

export interface ModelFile {
  /** Path relative to the model folder ('' for a single-file model), always with '/' */
  relativePath: string
  absolutePath: string
  size: number
}

export interface ModelFiles {
  kind: 'file' | 'folder'
  root: string
  files: ModelFile[]
  totalBytes: number
}

/**
 * Lists what will be uploaded, and rejects what cannot be: a missing, empty or unreadable
 * file, or a folder with no files. Done up front so that bad input fails before any write.
 */
export function listModelFiles(input: string, modelPath: string): ModelFiles {
  const root = path.resolve(modelPath)
  const stat = statOrFail(input, root, modelPath)
  if (stat.isFile()) {
    checkReadable(input, root, modelPath)
    if (stat.size === 0) {
      throw new InputError(
        input,
        `model file '${modelPath}' is empty; point it at the trained model`
      )
    }
    return {
      kind: 'file',
      root,
      files: [{ relativePath: '', absolutePath: root, size: stat.size }],
      totalBytes: stat.size
    }
  }
  if (!stat.isDirectory()) {
    throw new InputError(input, `'${modelPath}' is neither a file nor a folder`)
  }
  const files: ModelFile[] = []
  walk(input, root, '', files)
  if (files.length === 0) {
    throw new InputError(
      input,
      `model folder '${modelPath}' has no files; point it at the trained model`
    )
  }
  files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1))
  return { kind: 'folder', root, files, totalBytes: files.reduce((sum, f) => sum + f.size, 0) }
}

function walk(input: string, dir: string, prefix: string, out: ModelFile[]): void {
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch (error) {
    throw new InputError(input, `cannot read folder '${dir}': ${(error as Error).message}`)
  }
  for (const entry of entries) {
    const absolutePath = path.join(dir, entry.name)
    const relativePath = prefix ? `${prefix}/${entry.name}` : entry.name
    const stat = entry.isSymbolicLink() ? statOrFail(input, absolutePath, absolutePath) : entry
    if (stat.isDirectory()) {
      walk(input, absolutePath, relativePath, out)
    } else if (stat.isFile()) {
      checkReadable(input, absolutePath, absolutePath)
      out.push({ relativePath, absolutePath, size: fs.statSync(absolutePath).size })
    }
  }
}

function statOrFail(input: string, absolute: string, shown: string): fs.Stats {
  try {
    return fs.statSync(absolute)
  } catch {
    throw new InputError(
      input,
      `'${shown}' does not exist (resolved to ${absolute}); download or build the model before this step`
    )
  }
}

function checkReadable(input: string, absolute: string, shown: string): void {
  try {
    fs.accessSync(absolute, fs.constants.R_OK)
  } catch {
    throw new InputError(input, `'${shown}' is not readable; check its permissions`)
  }
}
