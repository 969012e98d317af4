// The throughput baseline: a bare @azure/storage-blob upload of one file to one SAS URL, with
// the block size and concurrency given, in its own process as the action would be. Prints the
// upload's duration in milliseconds.
// Usage: node --import tsx bench/plain-upload.ts FILE SAS_URL BLOCK_MIB CONCURRENCY
import { BlockBlobClient } from '@azure/storage-blob'

const [file, url, blockMiB, concurrency] = process.argv.slice(2)
const client = new BlockBlobClient(url)
const started = performance.now()
await client.uploadFile(file, {
  blockSize: Number(blockMiB) * 1024 * 1024,
  concurrency: Number(concurrency)
})
console.log(performance.now() - started)
