import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, readFile, stat, type FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { Worker } from 'node:worker_threads'
import type { BlockBlobClient } from '@azure/storage-blob'
import { USER_AGENT } from './http.js'
import { retrying } from '../retry.js'

/**
 * Moves bytes between a local file and a blob SAS URL with @azure/storage-blob. Large files go
 * up as blocks, several at once, read from disk into a fixed pool of reused buffers, so memory
 * stays flat whatever the model size; the whole file's MD5, computed on another thread, is
 * recorded on the blob so that a re-run can tell an identical artifact from another one.
 */

/** Azure's limits: at most 50,000 blocks of at most 4000 MiB each. */
const MAX_BLOCKS = 50_000
const MiB = 1024 * 1024
/** Below this a single PUT is one round trip and the whole file fits comfortably in memory. */
export const SINGLE_PUT_MAX = 8 * MiB
/** Blocks in flight; with MIN_BLOCK_SIZE, 64 MiB of buffers in all. */
const BLOCK_CONCURRENCY = 8
const MIN_BLOCK_SIZE = 8 * MiB
/**
 * A block is handed to the socket in slices of this size: TLS then encrypts as the connection
 * drains, instead of queueing a whole block's ciphertext next to its plaintext.
 */
const WRITE_SLICE = 256 * 1024

export interface BlobContent {
  size: number
  md5: string // base64, as Azure reports Content-MD5
}

let sharedPipeline: Promise<import('@azure/storage-blob').Pipeline> | undefined

/**
 * One pipeline for every blob: its HTTP client keeps connections alive, so a folder of small
 * files reuses a few TLS sessions instead of opening one per file.
 */
function blobPipeline(): Promise<import('@azure/storage-blob').Pipeline> {
  // Loaded on first use: runs that upload nothing (dry-run) never pay for it.
  sharedPipeline ??= import('@azure/storage-blob').then(({ AnonymousCredential, newPipeline }) =>
    newPipeline(new AnonymousCredential(), {
      userAgentOptions: { userAgentPrefix: USER_AGENT },
      // One try here: every blob call is wrapped in retrying() (retry.ts), so attempts and waits
      // stay within one budget instead of multiplying across two retry layers.
      retryOptions: { maxTries: 1, tryTimeoutInMs: 120_000 }
    })
  )
  return sharedPipeline
}

/**
 * Starts loading the blob SDK without waiting for it. Called as run history is asked for the
 * upload (or read) URLs: the load, tens of milliseconds of CPU, then overlaps that round trip
 * instead of following it. A failure to load shows at first use.
 */
export function loadBlobClientEarly(): void {
  blobPipeline().catch(() => undefined)
}

async function blockBlob(sasUrl: string): Promise<BlockBlobClient> {
  const [{ BlockBlobClient }, pipeline] = await Promise.all([
    import('@azure/storage-blob'),
    blobPipeline()
  ])
  return new BlockBlobClient(sasUrl, pipeline)
}

/** Block size from the file size: 8 MiB, or larger when 50,000 blocks would not hold it. */
export function blockSizeFor(size: number): number {
  return Math.max(MIN_BLOCK_SIZE, Math.ceil(size / MAX_BLOCKS / MiB) * MiB)
}

export async function uploadFile(path: string, size: number, sasUrl: string): Promise<BlobContent> {
  const client = await blockBlob(sasUrl)
  const file = await open(path, 'r')
  try {
    if (size <= SINGLE_PUT_MAX) {
      const data = await file.readFile()
      const md5 = createHash('md5').update(data).digest()
      await retrying(() =>
        client.upload(data, data.length, { blobHTTPHeaders: { blobContentMD5: md5 } })
      )
      return { size: data.length, md5: md5.toString('base64') }
    }
    return await uploadBlocks(client, file, size)
  } finally {
    await file.close()
  }
}

/**
 * Reads the file in order into at most BLOCK_CONCURRENCY buffers; each is staged as a block (a
 * retry sends the same buffer again) and reused once it landed. Meanwhile a worker thread
 * computes the MD5 for the commit (about 1.4 s of CPU per GiB) from its own sequential read,
 * so that this thread only keeps blocks in flight.
 */
async function uploadBlocks(
  client: BlockBlobClient,
  file: FileHandle,
  size: number
): Promise<BlobContent> {
  const blockSize = blockSizeFor(size)
  const md5 = md5InWorker(file)
  const ids: string[] = []
  const inFlight = new Set<Promise<void>>()
  const free: Buffer[] = []
  let failure: unknown
  try {
    for (let offset = 0, index = 0; offset < size; offset += blockSize, index++) {
      while (inFlight.size >= BLOCK_CONCURRENCY) await Promise.race(inFlight)
      if (failure) break
      const buffer = free.pop() ?? Buffer.allocUnsafe(blockSize)
      const length = await readFully(file, buffer, Math.min(blockSize, size - offset), offset)
      const block = buffer.subarray(0, length)
      const id = Buffer.from(`block-${String(index).padStart(6, '0')}`).toString('base64')
      ids.push(id)
      const staged: Promise<void> = retrying(() =>
        client.stageBlock(id, () => Readable.from(slices(block), { objectMode: false }), length)
      )
        .then(
          () => undefined,
          error => {
            failure ??= error
          }
        )
        .finally(() => {
          inFlight.delete(staged)
          free.push(buffer)
        })
      inFlight.add(staged)
    }
    await Promise.all(inFlight)
    if (failure) throw failure
    const digest = await md5.digest
    await retrying(() =>
      client.commitBlockList(ids, { blobHTTPHeaders: { blobContentMD5: digest } })
    )
    return { size, md5: digest.toString('base64') }
  } finally {
    // The worker reads through this file descriptor: it must be gone before the file closes.
    await md5.stop()
  }
}

/** Fills `length` bytes of `buffer` from `position` (a read may return fewer). */
async function readFully(
  file: FileHandle,
  buffer: Buffer,
  length: number,
  position: number
): Promise<number> {
  let filled = 0
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled)
    if (bytesRead === 0)
      throw new Error(`The model file ended at ${position + filled} bytes while it was uploaded`)
    filled += bytesRead
  }
  return filled
}

function* slices(block: Buffer): Generator<Buffer> {
  for (let start = 0; start < block.length; start += WRITE_SLICE) {
    yield block.subarray(start, start + WRITE_SLICE)
  }
}

/** Size and Content-MD5 of a blob, or undefined when it holds nothing yet. */
export async function blobContent(sasUrl: string): Promise<BlobContent | undefined> {
  const client = await blockBlob(sasUrl)
  try {
    const properties = await retrying(() => client.getProperties())
    const md5 = properties.contentMD5 ? Buffer.from(properties.contentMD5).toString('base64') : ''
    return { size: properties.contentLength ?? 0, md5 }
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined
    throw error
  }
}

/** A small blob's bytes as text, or undefined when it holds nothing yet. */
export async function blobText(sasUrl: string): Promise<string | undefined> {
  const client = await blockBlob(sasUrl)
  try {
    // download(), not downloadToBuffer(): one GET, without a HEAD for the size first.
    const data = await retrying(async () => {
      const response = await client.download()
      const chunks: Buffer[] = []
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk))
      return Buffer.concat(chunks)
    })
    return data.length > 0 ? data.toString('utf8') : undefined
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined
    throw error
  }
}

/** One Put Blob of bytes held in memory, with their MD5 recorded. */
export async function uploadBytes(data: Buffer, sasUrl: string): Promise<void> {
  const client = await blockBlob(sasUrl)
  const md5 = createHash('md5').update(data).digest()
  await retrying(() =>
    client.upload(data, data.length, { blobHTTPHeaders: { blobContentMD5: md5 } })
  )
}

/** MD5 of a local file, streamed. */
export async function fileMd5(path: string): Promise<string> {
  const { size } = await stat(path)
  // A small file in one read: a stream costs more than the hashing.
  if (size <= SINGLE_PUT_MAX) {
    return createHash('md5')
      .update(await readFile(path))
      .digest('base64')
  }
  const hash = createHash('md5')
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk)
  return hash.digest('base64')
}

/** The file's MD5 from a worker thread reading the open file on its own. */
function md5InWorker(file: FileHandle): { digest: Promise<Buffer>; stop(): Promise<void> } {
  const worker = new Worker(MD5_WORKER, { eval: true, workerData: file.fd })
  const digest = new Promise<Buffer>((resolve, reject) => {
    worker.once('message', (md5: Uint8Array) => resolve(Buffer.from(md5)))
    worker.once('error', reject)
    worker.once('exit', code => reject(new Error(`The MD5 worker stopped (exit code ${code})`)))
  })
  digest.catch(() => undefined) // awaited only when every block landed
  return { digest, stop: () => worker.terminate().then(() => undefined) }
}

/** Positional reads (pread), so that it shares the descriptor with the uploads safely. */
const MD5_WORKER = `
const { createHash } = require('node:crypto')
const { readSync } = require('node:fs')
const { parentPort, workerData: fd } = require('node:worker_threads')
const hash = createHash('md5')
const buffer = Buffer.allocUnsafe(${4 * MiB})
for (let position = 0, n; (n = readSync(fd, buffer, 0, buffer.length, position)) > 0; position += n) {
  hash.update(buffer.subarray(0, n))
}
parentPort.postMessage(hash.digest())
`
