// The Temporal server's configuration for the production shape run here (after the server's own
// config/development-postgres12.yaml, without archival and pprof): written as JSON, which YAML parses as is.

export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  /** One membership (ringpop) port per service: frontend, history, matching, worker. */
  membership: number[];
  metrics: number;
}

function datastore(database: string, postgresPort: number, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `127.0.0.1:${postgresPort}`,
      connectProtocol: 'tcp',
      user: 'postgres',
      password: 'postgres', // the embedded server's local-only superuser (src/db/embedded.ts)
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

export function renderServerConfig(opts: {
  postgresPort: number;
  ports: ServerPorts;
  dynamicConfigFile: string;
}): string {
  const { ports } = opts;
  const [frontendRing, historyRing, matchingRing, workerRing] = ports.membership;
  const rpc = (grpcPort: number, membershipPort: number | undefined, extra = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': datastore('temporal', opts.postgresPort, 20),
        'postgres-visibility': datastore('temporal_visibility', opts.postgresPort, 4),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: {
          framework: 'tally',
          timerType: 'histogram',
          listenAddress: `127.0.0.1:${ports.metrics}`,
        },
      },
    },
    services: {
      frontend: rpc(ports.frontend, frontendRing, { httpPort: ports.frontendHttp }),
      history: rpc(ports.history, historyRing),
      matching: rpc(ports.matching, matchingRing),
      worker: rpc(ports.worker, workerRing),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: opts.dynamicConfigFile, pollInterval: '10s' },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
