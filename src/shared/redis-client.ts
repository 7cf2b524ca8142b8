import type { Cluster, Redis } from "ioredis";

/**
 * A connection to the cluster's Redis, whatever the topology: one server or a primary behind
 * sentinels (`Redis`), or a Redis Cluster (`Cluster`). Both speak every command the product
 * sends; what differs (duplicating, naming a connection) goes through the functions below.
 */
export type RedisClient = Redis | Cluster;

/** Whether the connection is to a Redis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/**
 * A new connection to the same Redis with the same settings, named `connectionName` in
 * `CLIENT LIST` when given: for a blocking read or a subscriber, which must not share a connection.
 */
export function duplicateClient(client: RedisClient, connectionName?: string): RedisClient {
  if (isCluster(client)) return client.duplicate(undefined, connectionName ? { redisOptions: { ...client.options.redisOptions, connectionName } } : {});
  return client.duplicate(connectionName ? { connectionName } : {});
}
