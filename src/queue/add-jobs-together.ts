import { Job, type JobsOptions, type Queue } from "bullmq";

/** A job for `addJobsTogether`: its queue, name, data and options, as `Queue.add` takes them. */
export interface JobToAdd {
  queue: Queue;
  name: string;
  data: unknown;
  opts: JobsOptions;
}

/**
 * Adds jobs to their queues in one MULTI: one round trip, and all of them or none. BullMQ's
 * own atomic insert across queues (what a flow without children is); every queue must use the
 * first one's Redis. Throws the first job's error, as `Queue.add` would.
 */
export async function addJobsTogether(jobs: readonly JobToAdd[]): Promise<void> {
  const [first] = jobs;
  if (!first) return;
  const entries = jobs.map((job) => new Job(job.queue, job.name, job.data, job.opts, job.opts.jobId).toFlowEntry());
  const results = await first.queue.getBackend().addFlow(entries);
  const failed = results.find(([error]) => error);
  if (failed?.[0]) throw failed[0];
}
