// Prometheus metrics: process defaults plus HTTP request counts and durations by mount.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'mount' | 'method' | 'status'>;
  duration: Histogram<'mount' | 'method'>;
}

export function createMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'slipway_' });
  return {
    registry,
    requests: new Counter({
      name: 'slipway_http_requests_total',
      help: 'HTTP requests by mount, method and status',
      labelNames: ['mount', 'method', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'slipway_http_request_duration_seconds',
      help: 'HTTP request duration by mount and method',
      labelNames: ['mount', 'method'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
  };
}

/** The mount a URL belongs to, for metric labels (bounded cardinality). */
export function mountOf(url: string): string {
  const m = /^\/(v2|git|kube|api|metrics|service)\b/.exec(url);
  return m ? m[1]! : 'ui';
}
