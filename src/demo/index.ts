// demo: the seed scenario as steps against a running Slipway (REST API + git CLI), for `slipway demo` and the e2e test.
export {
  SeedScenario,
  EXAMPLES,
  SERVICE,
  SERVICE_REPO,
  VALUES_REPO,
  DEV_APP,
  PROD_APP,
  USERS,
} from './scenario.ts';
export type { ScenarioOptions, AppView, BuildView } from './scenario.ts';
