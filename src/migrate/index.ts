// migrate: bringing existing deployments onto Slipway (docker-compose / Rancher 1.6 → Helm charts in GitOps layout).
export { importCompose, splitImage, parsePort, durationSeconds, kubeName } from './compose.ts';
export type { ComposeImportOptions, ComposeImportResult, ImportWarning } from './compose.ts';
