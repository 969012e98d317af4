import * as core from '@actions/core'
import { messageOf } from './errors.js'
import type { Config } from './inputs.js'
import type { Outcome } from './outcome.js'
import { readGitHubRun, runUrl } from './provenance.js'
import { summaryMarkdown } from './report.js'
import { retrying } from './retry.js'

/** Events whose runs review a pull request: the gate comments its decision there. */
const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_target']

/** The hidden first line that finds this model's comment again on later runs. */
export function markerFor(modelName: string): string {
  return `<!-- azureml-model-gate: model=${modelName} -->`
}

/** The comment: the marker, the summary without its chart, and the workflow run it came from. */
export function commentBody(outcome: Outcome, workflowRunUrl: string): string {
  const from = workflowRunUrl ? `[this workflow run](${workflowRunUrl})` : 'a workflow run'
  return [
    markerFor(outcome.modelName),
    summaryMarkdown(outcome, { chart: false }).trimEnd(),
    '',
    `<sub>Posted by azureml-model-gate from ${from}; updated by later runs for ${outcome.modelName}.</sub>`,
    ''
  ].join('\n')
}

/** Whether this run comments: the `pull-request` input, or a pull request event. */
export function wantsComment(pullRequest: number | undefined, eventName: string): boolean {
  return pullRequest !== undefined || PULL_REQUEST_EVENTS.includes(eventName)
}

/** The first comment carrying this model's marker, if any. */
export function findOwnComment<T extends { body?: string | null }>(
  comments: T[],
  modelName: string
): T | undefined {
  const marker = markerFor(modelName)
  return comments.find(comment => comment.body?.startsWith(marker))
}

/**
 * Writes the decision as one comment on the pull request, and updates that same comment on
 * later runs. A comment is a courtesy: when it cannot be written the step warns and succeeds.
 */
export async function commentOnPullRequest(config: Config, outcome: Outcome): Promise<void> {
  const run = readGitHubRun()
  if (!wantsComment(config.pullRequest, run.eventName)) return
  // An explicitly empty token is the way to opt out (e.g. a smoke test against an emulator).
  if (!config.githubToken) {
    core.info(`Input 'github-token' is empty; the decision is not commented on the pull request.`)
    return
  }
  let number: unknown = config.pullRequest
  try {
    // Octokit and its HTTP client load only on this path: start-up stays as it was.
    const github = await import('@actions/github')
    number ??= github.context.payload.pull_request?.number
    if (typeof number !== 'number') {
      core.warning(
        `No pull request number in the ${run.eventName} event; set the pull-request input to comment the decision.`
      )
      return
    }
    const octokit = github.getOctokit(config.githubToken)
    const target = { ...github.context.repo, issue_number: number }
    const body = commentBody(outcome, runUrl(run))
    // The whole upsert is retried, not each call: a create whose answer was lost is found by
    // the next listing and updated, never posted twice.
    const url = await retrying(() =>
      upsertComment(octokit, target, outcome.modelName, body).catch(error => {
        throw retryable(error)
      })
    )
    core.info(`Decision commented on pull request #${number}: ${url}`)
  } catch (error) {
    const which = typeof number === 'number' ? `pull request #${number}` : 'the pull request'
    core.warning(
      (error as { status?: unknown }).status === 403
        ? `Could not comment on ${which}: the token may not write to it (403). Give the job 'permissions: pull-requests: write'; a pull request from a fork gets a read-only token. The decision is in the job summary.`
        : `Could not comment on ${which}: ${messageOf(error)}. The decision is in the job summary.`
    )
  }
}

type Octokit = ReturnType<(typeof import('@actions/github'))['getOctokit']>

/** Updates this model's comment, or creates it; returns its address. */
async function upsertComment(
  octokit: Octokit,
  target: { owner: string; repo: string; issue_number: number },
  modelName: string,
  body: string
): Promise<string> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    ...target,
    per_page: 100
  })
  const own = findOwnComment(comments, modelName)
  const { owner, repo } = target
  const { data } = own
    ? await octokit.rest.issues.updateComment({ owner, repo, comment_id: own.id, body })
    : await octokit.rest.issues.createComment({ ...target, body })
  return data.html_url
}

/**
 * Octokit's errors carry `status` and a plain object of headers; retrying() reads `statusCode`
 * and the headers through get(), as the Azure SDK gives them. `status` stays for the 403 advice.
 */
function retryable(error: unknown): unknown {
  const failure = error as {
    status?: unknown
    statusCode?: unknown
    response?: { headers?: Record<string, string | undefined> }
  }
  if (typeof failure?.status !== 'number' || failure.statusCode !== undefined) return error
  const headers = failure.response?.headers ?? {}
  return Object.assign(failure, {
    statusCode: failure.status,
    response: {
      ...failure.response,
      headers: { get: (name: string) => headers[name.toLowerCase()] }
    }
  })
}
