// The shapes of the REST API's bodies the console reads (camelCase, as on the wire; see
// baas/api/schemas.py and the services' to_dict()). Only the fields the console uses.

export interface Organization {
  name: string;
  mspId: string;
}

export interface Counts {
  organizations: number;
  nodes: number;
  channels: number;
  chaincodes: number;
}

export interface NetworkSummary {
  name: string;
  target: 'local' | 'kubernetes';
  revision: number;
  createdAt: string;
  updatedAt: string;
  organizations: Organization[];
  counts: Counts;
}

export type DeploymentState =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'interrupted';

export interface Phase {
  name?: string;
  phase?: string;
  seconds?: number;
  [key: string]: unknown;
}

export interface Deployment {
  id: string;
  network: string;
  action: string;
  target: string;
  purge: boolean;
  state: DeploymentState;
  revision: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  lastStep: string | null;
  cancelRequested: boolean;
  phases: Phase[];
  result: Record<string, unknown> | null;
  error: { code?: string; message?: string; hint?: string; [key: string]: unknown } | null;
  createdBy: string | null;
  events: string;
}

export interface NetworkDetail extends NetworkSummary {
  mediaType: string;
  topology: string;
  warnings: unknown[];
  latestDeployment: Deployment | null;
}

export interface NetworkList {
  items: NetworkSummary[];
}

/** One node of `GET …/status` on the local runtime. */
export interface NodeStatus {
  name: string;
  role: 'peer' | 'orderer' | string;
  org: string;
  pid: number | null;
  state: string;
  ports: Record<string, number>;
  healthy: boolean | null;
}

export interface ChannelStatus {
  name: string;
  heights: Record<string, number | null>;
  chaincodes: { name: string; version?: string; sequence?: number }[];
}

export interface ChaincodeServer {
  program: string;
  org: string;
  chaincode: string;
  channel: string;
  address: string | null;
  state: string;
}

/** `GET …/status`: the local runtime's shape (a Kubernetes network has no `nodes`). */
export interface NetworkStatus {
  kind: 'Status';
  network: string;
  target: string;
  running?: boolean;
  nodes?: NodeStatus[];
  chaincodeServers?: ChaincodeServer[];
  channels?: ChannelStatus[];
  [key: string]: unknown;
}

/** The API's error body (RFC 7807-like): every 4xx/5xx has it. */
export interface Problem {
  status: number;
  code: string;
  message: string;
  hint?: string | null;
  diagnostics?: unknown[];
}

/** One finding of topology validation (baas/topology `Diagnostic.to_dict()`). */
export interface TopologyDiagnostic {
  severity: 'error' | 'warning';
  file?: string;
  path: string;
  line: number | null;
  column: number | null;
  message: string;
  hint: string | null;
}

/** POST /networks/validate's 200 body (a 422 carries `diagnostics` in its problem body). */
export interface ValidationResult {
  valid: boolean;
  network: string;
  organizations: number;
  nodes: number;
  channels: number;
  chaincodes: number;
  diagnostics: TopologyDiagnostic[];
  warnings: TopologyDiagnostic[];
}

/** GET /networks/{name}/plan: what an `up` would change, one line per change. */
export interface ChangePlan {
  network: string;
  target: string;
  changes: string[];
  warnings: TopologyDiagnostic[];
}
