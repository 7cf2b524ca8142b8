import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { waitFor } from "./agent-process.js";
import { freePort } from "./app-server.js";

const run = promisify(execFile);

/** A TLS-only redis-server of this test's own, with a throwaway CA. */
export interface TlsRedis {
  port: number;
  /** The CA's certificate file: what REDIS_TLS_CA names. */
  caFile: string;
  /** Connected as `default` with `adminPassword`, over TLS. */
  admin: Redis;
  adminPassword: string;
  stop(): Promise<void>;
}

/** Why TLS cannot be tried here (no openssl, or a redis-server built without TLS), or undefined. */
export type TlsRedisResult = { ok: true; redis: TlsRedis } | { ok: false; reason: string };

/** A CA and a certificate for 127.0.0.1 and localhost signed by it, made with openssl in `dir`. */
export async function makeCertificates(dir: string): Promise<void> {
  const at = (name: string) => join(dir, name);
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.crt"),
    "-days",
    "1",
    "-subj",
    "/CN=ccc-test-ca",
  ]);
  await run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", at("redis.key"), "-out", at("redis.csr"), "-subj", "/CN=localhost"]);
  await writeFile(at("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    at("redis.csr"),
    "-CA",
    at("ca.crt"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at("redis.crt"),
    "-days",
    "1",
    "-extfile",
    at("san.ext"),
  ]);
}

/**
 * `redis-server --port 0 --tls-port P` with a certificate from a throwaway CA; clients need no
 * certificate of their own (`tls-auth-clients no`), and `default` needs `adminPassword`.
 */
export async function startTlsRedis(): Promise<TlsRedisResult> {
  const dir = await mkdtemp(join(tmpdir(), "ccc-redis-tls-"));
  try {
    await makeCertificates(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return { ok: false, reason: `openssl could not make a test certificate: ${(error as Error).message}` };
  }
  const port = await freePort();
  const adminPassword = "admin-password-for-this-test-only";
  let output = "";
  const server: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--tls-cert-file",
      join(dir, "redis.crt"),
      "--tls-key-file",
      join(dir, "redis.key"),
      "--tls-ca-cert-file",
      join(dir, "ca.crt"),
      "--tls-auth-clients",
      "no",
      "--requirepass",
      adminPassword,
      "--dir",
      dir,
      "--save",
      "",
      "--maxmemory-policy",
      "noeviction",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  server.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  server.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const ca = await readFile(join(dir, "ca.crt"), "utf8");
  const admin = new Redis({ port, password: adminPassword, tls: { ca }, lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: null });
  admin.on("error", () => {});
  const stop = async () => {
    admin.disconnect();
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await admin.connect().catch(() => {});
    await waitFor("redis-server to answer over TLS", async () => {
      if (server.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
      return (await admin.ping().catch(() => "")) === "PONG";
    });
  } catch (error) {
    await stop();
    // A build without TLS refuses the tls-* options at start.
    if (/tls/i.test(output) && server.exitCode !== null)
      return { ok: false, reason: `this redis-server has no TLS built in: ${output.trim().split("\n").at(-1)}` };
    throw error;
  }
  return { ok: true, redis: { port, caFile: join(dir, "ca.crt"), admin, adminPassword, stop } };
}
