import type { LogEntry } from '../../emulator/index.js'
import { violations } from './schemas.js'

/**
 * Which contract each emulator route answers with and each request body must follow. A route
 * the action calls that is missing here fails the traffic test: add its schemas to contracts/
 * and a line here (the mlflow helper adds `mlflow.*` the same way).
 */
export const ROUTE_CONTRACTS: Record<
  string,
  { plane: 'arm' | 'history'; request?: string; response?: string }
> = {
  'arm.workspace.get': { plane: 'arm', response: 'arm/workspace.get.response' },
  'arm.job.get': { plane: 'arm', response: 'arm/job.get.response' },
  'arm.model.container.get': { plane: 'arm', response: 'arm/model-container.get.response' },
  'arm.model.versions.list': { plane: 'arm', response: 'arm/model-versions.list.response' },
  'arm.model.version.get': { plane: 'arm', response: 'arm/model-version' },
  'arm.model.version.put': {
    plane: 'arm',
    request: 'arm/model-version.put.request',
    response: 'arm/model-version.put.response'
  },
  'dataplane.discovery': { plane: 'history', response: 'history/discovery.response' },
  'history.children': { plane: 'history', response: 'history/children.list.response' },
  'history.run.get': { plane: 'history', response: 'history/run' },
  'history.artifacts.metadata': {
    plane: 'history',
    request: 'history/artifacts-batch-metadata.request',
    response: 'history/artifacts-batch-metadata.response'
  },
  'history.artifacts.contentinfo': {
    plane: 'history',
    response: 'history/artifact-content-information'
  }
}

/** Routes that carry no JSON contract of ours: tokens, OIDC, blob bytes. */
const NOT_JSON = /^(entra|github|blob)\./

/** Every contract violation in a request log kept with `logBodies`, one readable line each. */
export function logViolations(log: LogEntry[]): string[] {
  const found: string[] = []
  for (const entry of log) {
    if (NOT_JSON.test(entry.route) || entry.status === 0) continue
    const contract = ROUTE_CONTRACTS[entry.route]
    const at = `${entry.method} ${entry.route} ${entry.status}`
    if (!contract) {
      found.push(`${at}: no contract for this route`)
      continue
    }
    const check = (schema: string | undefined, body: unknown, what: string) => {
      if (!schema) return
      for (const v of violations(schema, body)) found.push(`${at} ${what} (${schema}): ${v}`)
    }
    if (entry.requestBody !== undefined) check(contract.request, entry.requestBody, 'request')
    else if (contract.request) found.push(`${at}: request body not logged`)
    const errorSchema =
      contract.plane === 'arm' ? 'arm/error-response' : 'history/azure-core-error-response'
    check(entry.status >= 400 ? errorSchema : contract.response, entry.responseBody, 'response')
  }
  return found
}
