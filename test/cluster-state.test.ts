import { describe, expect, it } from "vitest";
import { clusterKeyPrefix } from "../src/config/shared-env.js";
import { readCliEnv } from "../src/cli/read-cli-env.js";
import { clusterStateProblem, parseClusterInfo } from "../src/shared/cluster-state.js";

const INFO = (state: string, assigned: number, ok: number) =>
  `cluster_enabled:1\r\ncluster_state:${state}\r\ncluster_slots_assigned:${assigned}\r\ncluster_slots_ok:${ok}\r\ncluster_slots_pfail:0\r\ncluster_known_nodes:6\r\ncluster_size:3\r\n`;

describe("a Redis Cluster's state, from CLUSTER INFO", () => {
  it("reads the fields the checks need", () => {
    expect(parseClusterInfo(INFO("ok", 16384, 16384))).toEqual({ state: "ok", slotsAssigned: 16384, slotsOk: 16384, size: 3, knownNodes: 6 });
  });

  it.each([
    ["every slot served", INFO("ok", 16384, 16384), undefined],
    [
      "slots unassigned",
      INFO("fail", 16000, 16000),
      /does not cover every hash slot \(n:1 says cluster_state:fail, 16000 of 16384 slots assigned\): assign the rest \(`redis-cli --cluster fix n:1`\)/,
    ],
    [
      "a master down with no replica",
      INFO("fail", 16384, 10923),
      /is down \(n:1 says cluster_state:fail, 10923 of 16384 slots served\): a master is unreachable/,
    ],
    ["a node cut off from the majority", INFO("fail", 16384, 16384), /is down/],
  ])("%s", (_, info, problem) => {
    const found = clusterStateProblem(parseClusterInfo(info), "n:1");
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});

describe("the key prefix on a Redis Cluster", () => {
  it.each([
    ["one server: as written", "ccc", {}, "ccc"],
    ["a cluster: in braces, so every key shares one hash slot", "ccc", { REDIS_CLUSTER_NODES: "redis://h:7000" }, "{ccc}"],
    ["a cluster, a prefix already a hash tag: kept", "{team-a}", { REDIS_CLUSTER_NODES: "redis://h:7000" }, "{team-a}"],
    ["one server, a hash-tagged prefix: kept", "{team-a}", {}, "{team-a}"],
  ])("%s", (_, prefix, env, expected) => {
    expect(clusterKeyPrefix({ CCC_PREFIX: prefix }, env).CCC_PREFIX).toBe(expected);
    expect(readCliEnv({ ...env, CCC_PREFIX: prefix }).CCC_PREFIX).toBe(expected);
  });

  it("a prefix with braces inside, or half a tag, is refused", () => {
    for (const prefix of ["c{c}c", "{ccc", "{}"]) expect(() => readCliEnv({ CCC_PREFIX: prefix })).toThrow(/CCC_PREFIX is not valid/);
  });
});

describe("an empty REDIS_URL beside REDIS_CLUSTER_NODES", () => {
  it("is unset, as a .env leaves it, for every process's settings", () => {
    expect(readCliEnv({ REDIS_URL: "", REDIS_CLUSTER_NODES: "redis://h:7000" }).CCC_PREFIX).toBe("{ccc}");
    expect(readCliEnv({ REDIS_URL: " " }).REDIS_URL).toBe("redis://127.0.0.1:6379");
  });
});
