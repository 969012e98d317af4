import type { TokenCredential } from '@azure/core-auth'
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning'
import { JsonPipeline, USER_AGENT, callError, useGateRetries } from './http.js'
import { nextRequestWritten } from './inflight.js'
import { UserError } from '../errors.js'

export interface WorkspaceRef {
  subscriptionId: string
  resourceGroup: string
  workspaceName: string
  armEndpoint: string
}

/**
 * The two planes of one Azure ML workspace: ARM (the SDK client) for jobs and models, and
 * the regional data plane (run history, artifacts) whose host the workspace itself names.
 * Both use the same credential and token scope.
 */
export class Workspace {
  /** ARM id, also the path prefix of every data-plane call */
  readonly id: string
  readonly dataPlane: JsonPipeline
  private apiHostPromise?: Promise<string>

  private constructor(
    readonly ref: WorkspaceRef,
    readonly arm: AzureMachineLearningWorkspaces,
    /** The SDK's paging helper, loaded with it: a static import would load the SDK at start-up. */
    readonly continuationTokenOf: (page: unknown) => string | undefined,
    credential: TokenCredential
  ) {
    this.id = workspaceIdOf(ref)
    this.dataPlane = new JsonPipeline(credential, scopeOf(ref.armEndpoint))
  }

  static async connect(ref: WorkspaceRef, credential: TokenCredential): Promise<Workspace> {
    // Every call needs this token: ask for it first, and load the SDK while its request is out.
    // Importing sooner held that request back by the whole compile (about 30 ms: Node 24
    // compiles a dynamic import on the spot; on Node 20 it stalled the TLS handshake). The
    // credential shares one request per scope, and a failure is reported by the first call
    // that needs the token.
    const token = credential.getToken(scopeOf(ref.armEndpoint)).catch(() => undefined)
    await nextRequestWritten(token)
    // The ARM SDK is the largest module in the bundle: load it only once inputs are valid.
    const { AzureMachineLearningWorkspaces, getContinuationToken } =
      await import('@azure/arm-machinelearning')
    const arm = new AzureMachineLearningWorkspaces(credential, ref.subscriptionId, {
      endpoint: ref.armEndpoint,
      credentialScopes: [scopeOf(ref.armEndpoint)],
      userAgentOptions: { userAgentPrefix: USER_AGENT }
    })
    useGateRetries(arm.pipeline)
    return new Workspace(ref, arm, getContinuationToken, credential)
  }

  /** Base URL of the run-history API for this workspace (one ARM call, made once). */
  async historyUrl(): Promise<string> {
    this.apiHostPromise ??= this.findApiHost()
    return `https://${await this.apiHostPromise}/history/v1.0${this.id}`
  }

  /**
   * Base URL of the workspace's MLflow REST API. The workspace advertises `mlflow/v1.0`;
   * azureml-mlflow rewrites it to `mlflow/v2.0` for every MLflow 2 or 3 client, and so do we
   * (see docs/azure-contract.md).
   */
  async mlflowUrl(): Promise<string> {
    this.apiHostPromise ??= this.findApiHost()
    return `https://${await this.apiHostPromise}/mlflow/v2.0${this.id}`
  }

  private async findApiHost(): Promise<string> {
    const ws = this.ref
    let workspace
    try {
      workspace = await this.arm.workspaces.get(ws.resourceGroup, ws.workspaceName)
    } catch (error) {
      const failure = callError(`Get workspace ${ws.workspaceName}`, error)
      if (failure.status === 404) {
        throw new UserError(
          `Workspace '${ws.workspaceName}' was not found in resource group '${ws.resourceGroup}' of subscription ${ws.subscriptionId}; check workspace-name, resource-group and subscription-id.`
        )
      }
      throw failure
    }
    // azureml://<host>/mlflow/v1.0/... names the regional data plane directly; the discovery
    // document is the documented fallback and costs one more round trip.
    if (workspace.mlFlowTrackingUri?.startsWith('azureml://')) {
      return new URL(workspace.mlFlowTrackingUri.replace(/^azureml:/, 'https:')).host
    }
    if (workspace.discoveryUrl) {
      const discovery = await this.dataPlane.send<{ api?: string }>(
        'Discover the workspace data plane',
        {
          method: 'GET',
          url: workspace.discoveryUrl
        }
      )
      if (discovery.body?.api) return new URL(discovery.body.api).host
    }
    throw new UserError(
      `Workspace '${ws.workspaceName}' advertises no data-plane endpoint (mlFlowTrackingUri or discoveryUrl).`
    )
  }
}

/** ARM id of a workspace: the studio's `wsid`, and the prefix of every data-plane path. */
export function workspaceIdOf(ref: Omit<WorkspaceRef, 'armEndpoint'>): string {
  return (
    `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}` +
    `/providers/Microsoft.MachineLearningServices/workspaces/${ref.workspaceName}`
  )
}

export function scopeOf(armEndpoint: string): string {
  return `${armEndpoint.replace(/\/+$/, '')}/.default`
}
