// The folder baseline: a bare @azure/storage-blob upload of every file of a folder, one Put Blob
// each (uploadFile), `CONCURRENCY` at a time, in its own process as the action would be. Prints
// the upload's duration in milliseconds.
// Usage: node --import tsx bench/plain-folder.ts FOLDER CONTAINER_SAS_URL PREFIX CONCURRENCY
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { ContainerClient } from '@azure/storage-blob'

const [folder, url, prefix, concurrency] = process.argv.slice(2)
const files = readdirSync(folder, { recursive: true, withFileTypes: true })
  .filter(entry => entry.isFile())
  .map(entry => path.join(entry.parentPath, entry.name))
const container = new ContainerClient(url)
const started = performance.now()
let next = 0
const worker = async () => {
  while (next < files.length) {
    const file = files[next++]
    const name = `${prefix}/${path.relative(folder, file).split(path.sep).join('/')}`
    await container.getBlockBlobClient(name).uploadFile(file)
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker))
console.log(performance.now() - started)
