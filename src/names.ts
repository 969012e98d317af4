// The names of every input and output of both actions (action.yml, verify/action.yml): one
// place that spells them, apart from the validators in inputs.ts.

/** Every input of action.yml, by name: the only place that spells them. */
export const Inputs = {
  SubscriptionId: 'subscription-id',
  ResourceGroup: 'resource-group',
  WorkspaceName: 'workspace-name',
  RunId: 'run-id',
  ModelName: 'model-name',
  ModelPath: 'model-path',
  ArtifactPath: 'artifact-path',
  TrainingStepName: 'training-step-name',
  Metric: 'metric',
  MetricSource: 'metric-source',
  MetricAggregation: 'metric-aggregation',
  ModelTypeTag: 'model-type-tag',
  HigherIsBetter: 'higher-is-better',
  MinImprovement: 'min-improvement',
  MinRelativeImprovement: 'min-relative-improvement',
  Threshold: 'threshold',
  Guardrails: 'guardrails',
  CompareTo: 'compare-to',
  AllowFirst: 'allow-first',
  AssetType: 'asset-type',
  Framework: 'framework',
  FrameworkVersion: 'framework-version',
  Description: 'description',
  Tags: 'tags',
  Properties: 'properties',
  Force: 'force',
  DryRun: 'dry-run',
  FailIfNotBetter: 'fail-if-not-better',
  WaitMinutes: 'wait-minutes',
  DecisionFile: 'decision-file',
  AzureCredentials: 'azure-credentials',
  ClientId: 'client-id',
  TenantId: 'tenant-id',
  Audience: 'audience',
  Cloud: 'cloud',
  ArmEndpoint: 'arm-endpoint',
  AuthorityHost: 'authority-host',
  GithubToken: 'github-token',
  PullRequest: 'pull-request'
} as const

/** Every output of action.yml, by name. */
export const Outputs = {
  Registered: 'registered',
  Reason: 'reason',
  DryRun: 'dry-run',
  ModelName: 'model-name',
  ModelVersion: 'model-version',
  ModelId: 'model-id',
  ModelUri: 'model-uri',
  ArtifactUri: 'artifact-uri',
  MetricValue: 'metric-value',
  ChampionVersion: 'champion-version',
  ChampionValue: 'champion-value',
  ModelType: 'model-type',
  RunId: 'run-id',
  MetricSource: 'metric-source',
  MetricRunId: 'metric-run-id',
  TagsSource: 'tags-source',
  Guardrails: 'guardrails',
  Result: 'result'
} as const

/** Every input of verify/action.yml: the model, and the workspace and sign-in of the gate's. */
export const VerifyInputs = {
  ModelUri: 'model-uri',
  ModelName: 'model-name',
  ModelVersion: 'model-version',
  AllowedReasons: 'allowed-reasons',
  Repository: 'repository',
  Ref: 'ref'
} as const

/** Every output of verify/action.yml. */
export const VerifyOutputs = {
  Verified: 'verified',
  ModelUri: 'model-uri',
  Reason: 'reason',
  GithubRunUrl: 'github-run-url',
  Sha: 'sha'
} as const
