/*
 * etc/statsd/config.js: statsd for anilist-gpt. The service sends UDP to
 * STATSD_HOST:STATSD_PORT (default 127.0.0.1:8125); statsd aggregates every
 * flushInterval and writes to Graphite (carbon's plaintext port). Timers get
 * p50/p95/p99 (upper_50, upper_95, upper_99 under stats.timers.*).
 * Run: statsd /usr/share/anilist-gpt/etc/statsd/config.js
 */
{
  address: "127.0.0.1",
  port: 8125,
  mgmt_address: "127.0.0.1",
  mgmt_port: 8126,
  flushInterval: 10000,
  percentThreshold: [50, 95, 99],
  deleteIdleStats: true,
  backends: ["./backends/graphite"],
  graphiteHost: "127.0.0.1",
  graphitePort: 2003,
  graphiteProtocol: "text",
  graphite: {
    legacyNamespace: false,
    globalPrefix: "stats",
    prefixCounter: "counters",
    prefixTimer: "timers",
    prefixGauge: "gauges",
    prefixSet: "sets"
  }
}
