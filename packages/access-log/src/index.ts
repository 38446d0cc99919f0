/**
 * @module @certified/access-log — one JSON line per request for Hono apps (ORNL certified's fields),
 * to stdout or any sink. The Grafana Loki sink is `@certified/access-log/loki`.
 */
export { accessLog, stdoutSink } from './access-log.js';
export type {
  AccessLogOptions,
  AccessLogPeer,
  AccessLogRecord,
  AccessLogSink,
} from './access-log.js';
