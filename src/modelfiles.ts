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
  walk({ input, modelPath, ancestors: [fs.realpathSync(root)] }, root, '', files)
  if (files.length === 0) {
    throw new InputError(
      input,
      `model folder '${modelPath}' has no files; point it at the trained model`
    )
  }
  files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1))
  return { kind: 'folder', root, files, totalBytes: files.reduce((sum, f) => sum + f.size, 0) }
}

/** The folders being walked, by real path: a link to one of them would never end. */
interface Walk {
  input: string
  modelPath: string
  ancestors: string[]
}

function walk(at: Walk, dir: string, prefix: string, out: ModelFile[]): void {
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch (error) {
    throw new InputError(at.input, `cannot read folder '${dir}': ${(error as Error).message}`)
  }
  for (const entry of entries) {
    const absolutePath = path.join(dir, entry.name)
    const relativePath = prefix ? `${prefix}/${entry.name}` : entry.name
    const stat = entry.isSymbolicLink() ? statOrFail(at.input, absolutePath, absolutePath) : entry
    if (stat.isDirectory()) {
      const real = fs.realpathSync(absolutePath)
      if (at.ancestors.includes(real)) {
        throw new InputError(
          at.input,
          `model folder '${at.modelPath}' contains a symlink loop: '${relativePath}' leads back to '${real}'; remove the link or point model-path at a folder without it`
        )
      }
      walk({ ...at, ancestors: [...at.ancestors, real] }, absolutePath, relativePath, out)
    } else if (stat.isFile()) {
      checkReadable(at.input, absolutePath, absolutePath)
      out.push({ relativePath, absolutePath, size: fs.statSync(absolutePath).size })
    }
  }
}

function statOrFail(input: string, absolute: string, shown: string): fs.Stats {
  try {
    return fs.statSync(absolute)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new InputError(
        input,
        `'${shown}' is a symlink loop (links that lead back to each other); remove or fix the link`
      )
    }
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
