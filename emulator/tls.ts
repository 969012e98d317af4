// Certificates for the emulator: a throwaway CA and a server certificate it signs, valid for
// 127.0.0.1, ::1 and localhost. Azure SDK pipelines refuse bearer tokens over plain http, so the
// emulator (and Azurite behind it) must speak TLS that clients can be told to trust.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import tls from 'node:tls'
import { X509Certificate, randomBytes } from 'node:crypto'
import { generate } from 'selfsigned'

export interface CertFiles {
  caCert: string
  caCertPath: string
  cert: string
  certPath: string
  key: string
  keyPath: string
}

const DAY = 24 * 3600 * 1000

/** Reuses the certificates in dataDir when still valid for a day, so a user who trusts ca.pem
 * once keeps trusting it across restarts; otherwise generates fresh ones. */
export async function ensureCertificates(dataDir: string): Promise<CertFiles> {
  const files = {
    caCertPath: join(dataDir, 'ca.pem'),
    caKeyPath: join(dataDir, 'ca.key.pem'),
    certPath: join(dataDir, 'server.pem'),
    keyPath: join(dataDir, 'server.key.pem')
  }
  const reused = tryReuse(files)
  if (reused) return reused

  const notBeforeDate = new Date(Date.now() - 60_000)
  const notAfterDate = new Date(Date.now() + 30 * DAY)
  // A unique CA name per generation: a process that trusts several emulators' CAs (one jest
  // worker running several test files) must not confuse same-named issuers.
  const caName = `Azure ML emulator local CA ${randomBytes(4).toString('hex')}`
  const ca = await generate([{ name: 'commonName', value: caName }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
    ]
  })
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' }
        ]
      }
    ]
  })
  writeFileSync(files.caCertPath, ca.cert)
  writeFileSync(files.caKeyPath, ca.private, { mode: 0o600 })
  writeFileSync(files.certPath, server.cert)
  writeFileSync(files.keyPath, server.private, { mode: 0o600 })
  return { ...files, caCert: ca.cert, cert: server.cert, key: server.private }
}

function tryReuse(f: Record<string, string>): CertFiles | undefined {
  if (![f.caCertPath, f.certPath, f.keyPath].every(p => existsSync(p))) return undefined
  try {
    const caCert = readFileSync(f.caCertPath, 'utf8')
    const cert = readFileSync(f.certPath, 'utf8')
    const leaf = new X509Certificate(cert)
    if (!leaf.checkIssued(new X509Certificate(caCert))) return undefined
    if (Date.parse(leaf.validTo) - Date.now() < DAY) return undefined
    const key = readFileSync(f.keyPath, 'utf8')
    return { caCert, caCertPath: f.caCertPath, cert, certPath: f.certPath, key, keyPath: f.keyPath }
  } catch {
    return undefined
  }
}

// In-process trust. NODE_EXTRA_CA_CERTS is read once at process start, and the Azure SDK
// pipeline builds its own https.Agent (so https.globalAgent.options.ca is ignored). Every TLS
// client in Node, though, gets its default context from tls.createSecureContext, so we add
// our CA to each context that was built with the default roots (no explicit `ca`).
// The set lives on globalThis: jest re-evaluates this module per test file in one worker, and
// the patch must not stack.
const TRUST = Symbol.for('azureml-emulator.extra-cas')
type Global = typeof globalThis & { [TRUST]?: Set<string> }

/** Makes every TLS client in this process trust `pem` in addition to the usual roots. Meant
 * for tests that run the emulator and the real SDK clients in one process. Idempotent. */
export function trustCertificateInProcess(pem: string): void {
  const g = globalThis as Global
  if (g[TRUST]) return void g[TRUST].add(pem)
  const extraCas = (g[TRUST] = new Set([pem]))
  const original = tls.createSecureContext
  tls.createSecureContext = (options?: tls.SecureContextOptions) => {
    const context = original(options)
    if (!options?.ca) {
      const native = (context as unknown as { context: { addCACert(pem: string): void } }).context
      for (const ca of extraCas) native.addCACert(ca)
    }
    return context
  }
}
