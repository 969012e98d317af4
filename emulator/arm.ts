// Azure Resource Manager: the workspace and its jobs. Every call needs a bearer token and an
// api-version the emulator serves (2022-10-01 by default). Models live in models.ts.
import { authenticate, authorize, type Principal } from './auth.js'
import type { Ctx, Route } from './http.js'
import { HttpError, selfLink, sendJson } from './http.js'
import type { SeedChildRun, SeedJob } from './seed.js'
import { W, workspaceArmId } from './services.js'

export type ArmHandler = (ctx: Ctx, who: Principal, ws: string) => Promise<void> | void

/** Builds an ARM route under W with ARM's checks in ARM's order: token, role, api-version,
 * then the resource chain (subscription, resource group, workspace). */
export function armRoute(
  id: string,
  method: string,
  sub: string,
  access: { action: string; write: boolean },
  handler: ArmHandler
): Route {
  return {
    id,
    plane: 'arm',
    methods: [method],
    pattern: new RegExp(`^${W}${sub}/?$`, 'i'),
    handle: async ctx => {
      const who = authenticate(ctx, 'arm')
      const scope = ctx.url.pathname.split('/').slice(0, 9).join('/')
      authorize(who, access.write, access.action, scope)
      const apiVersion = ctx.url.searchParams.get('api-version')
      if (!apiVersion) {
        throw new HttpError(
          400,
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.'
        )
      }
      checkApiVersion(ctx, apiVersion, id)
      checkWorkspace(ctx)
      await handler(ctx, who, workspaceArmId(ctx.svc))
    }
  }
}

/**
 * ARM refuses an api-version the resource provider does not serve, before the provider sees
 * the request (message as ARM words it; see docs/azure-contract.md).
 */
function checkApiVersion(ctx: Ctx, apiVersion: string, routeId: string): void {
  const served = ctx.svc.settings.armApiVersions ?? ['2022-10-01']
  if (served.includes(apiVersion)) return
  if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) {
    throw new HttpError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${apiVersion}' is invalid. The supported versions are '${served.join(',')}'.`
    )
  }
  const type = routeId.startsWith('arm.model.version')
    ? 'workspaces/models/versions'
    : routeId.startsWith('arm.model')
      ? 'workspaces/models'
      : routeId.startsWith('arm.job')
        ? 'workspaces/jobs'
        : 'workspaces'
  throw new HttpError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${ctx.svc.state.data.workspace.location}' and API version '${apiVersion}' for type '${type}'. The supported api-versions are '${served.join(', ')}'. The supported locations are '${ctx.svc.state.data.workspace.location}'.`
  )
}

function checkWorkspace(ctx: Ctx): void {
  const d = ctx.svc.state.data
  const [sub, rg, ws] = ctx.params
  if (sub.toLowerCase() !== d.subscriptionId.toLowerCase()) {
    throw new HttpError(
      404,
      'SubscriptionNotFound',
      `The subscription '${sub}' could not be found.`
    )
  }
  if (rg.toLowerCase() !== d.resourceGroup.toLowerCase()) {
    throw new HttpError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`)
  }
  if (ws.toLowerCase() !== d.workspace.name.toLowerCase()) {
    throw new HttpError(
      404,
      'ResourceNotFound',
      `The Resource 'Microsoft.MachineLearningServices/workspaces/${ws}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`
    )
  }
}

function workspace(ctx: Ctx, ws: string): void {
  const d = ctx.svc.state.data
  const apiHost = new URL(ctx.svc.apiUrl).host
  sendJson(ctx, 200, {
    id: ws,
    name: d.workspace.name,
    type: 'Microsoft.MachineLearningServices/workspaces',
    location: d.workspace.location,
    identity: { type: 'SystemAssigned' },
    sku: { name: 'Basic', tier: 'Basic' },
    properties: {
      friendlyName: d.workspace.name,
      discoveryUrl: `${ctx.svc.apiUrl}/discovery`,
      mlFlowTrackingUri: `azureml://${apiHost}/mlflow/v1.0${ws}`,
      workspaceId: d.workspace.workspaceId,
      provisioningState: 'Succeeded',
      publicNetworkAccess: 'Enabled'
    }
  })
}

export function systemData(createdAt: string, by = 'octo', modifiedAt = createdAt): object {
  return {
    createdAt,
    createdBy: by,
    createdByType: 'User',
    lastModifiedAt: modifiedAt,
    lastModifiedBy: by,
    lastModifiedByType: 'User'
  }
}

export function jobResource(ws: string, job: SeedJob, status: string): object {
  const createdAt = job.createdAt ?? '2024-01-01T00:00:00Z'
  const jobType = job.jobType ?? 'Pipeline'
  const steps = Object.fromEntries(
    (job.children ?? []).map(c => [c.name ?? c.runId, { type: 'command', name: c.name ?? c.runId }])
  )
  return {
    id: `${ws}/jobs/${job.name}`,
    name: job.name,
    type: 'Microsoft.MachineLearningServices/workspaces/jobs',
    properties: {
      jobType,
      displayName: job.displayName ?? job.name,
      experimentName: job.experimentName,
      status,
      description: null,
      tags: job.tags ?? {},
      properties: job.properties ?? {},
      isArchived: false,
      computeId: null,
      services: {
        Studio: {
          jobServiceType: 'Studio',
          endpoint: `https://ml.azure.com/runs/${job.name}?wsid=${ws}`
        }
      },
      ...(jobType === 'Pipeline' ? { jobs: steps, inputs: {}, outputs: {}, settings: {} } : {})
    },
    systemData: systemData(createdAt)
  }
}

/** ARM does not serve step runs: they come back with `properties: null`. */
function childResource(ws: string, child: SeedChildRun): object {
  return {
    id: `${ws}/jobs/${child.runId}`,
    name: child.runId,
    type: 'Microsoft.MachineLearningServices/workspaces/jobs',
    properties: null,
    systemData: systemData(child.createdAt ?? '2024-01-01T00:00:00Z')
  }
}

function getJob(ctx: Ctx, ws: string): void {
  const name = ctx.params[3]
  const { state } = ctx.svc
  const job = state.job(name)
  if (job) return sendJson(ctx, 200, jobResource(ws, job, state.observeJobStatus(job)))
  const ref = state.run(name)
  if (ref?.child) return sendJson(ctx, 200, childResource(ws, ref.child))
  throw new HttpError(
    404,
    'UserError',
    `Job ${name} not found in workspace ${state.data.workspace.name}.`
  )
}

const DEFAULT_PAGE = 20

function listJobs(ctx: Ctx, ws: string): void {
  const q = ctx.url.searchParams
  const jobType = q.get('jobType')
  const tag = q.get('tag')
  const jobs = ctx.svc.state.data.jobs.filter(
    j =>
      (!jobType || (j.jobType ?? 'Pipeline').toLowerCase() === jobType.toLowerCase()) &&
      (!tag || matchesTag(j.tags ?? {}, tag))
  )
  const skip = Number(q.get('$skipToken') ?? 0) || 0
  const top = Number(q.get('$top') ?? DEFAULT_PAGE) || DEFAULT_PAGE
  const page = jobs.slice(skip, skip + top)
  sendJson(ctx, 200, {
    value: page.map(j => jobResource(ws, ctx.svc.state.job(j.name) ?? j, j.status)),
    nextLink: skip + top < jobs.length ? selfLink(ctx, { $skipToken: String(skip + top) }) : null
  })
}

function matchesTag(tags: Record<string, string>, filter: string): boolean {
  const [key, value] = filter.split('=')
  return key in tags && (value === undefined || tags[key] === value)
}

export const armRoutes: Route[] = [
  armRoute('arm.workspace.get', 'GET', '', { action: '', write: false }, (ctx, _w, ws) =>
    workspace(ctx, ws)
  ),
  armRoute('arm.job.list', 'GET', '/jobs', { action: 'jobs', write: false }, (ctx, _w, ws) =>
    listJobs(ctx, ws)
  ),
  armRoute('arm.job.get', 'GET', '/jobs/([^/]+)', { action: 'jobs', write: false }, (ctx, _w, ws) =>
    getJob(ctx, ws)
  )
]
