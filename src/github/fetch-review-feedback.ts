import type { PullRequestFeedback } from "../queue/task-data.js";
import type { GitHubClient } from "./github-client.js";

/** Newest reviews with a body the prompt carries; older ones are counted as omitted. */
export const MAX_REVIEWS = 20;
/** Newest review threads the prompt carries. */
export const MAX_THREADS = 30;
/** Comments kept per thread: its first one (what the reviewer pointed at) and the latest replies. */
export const MAX_THREAD_COMMENTS = 20;

export interface FeedbackQuery {
  owner: string;
  repo: string;
  pullNumber: number;
  /** Epoch ms: only feedback written after it. Absent: all of it (the PR's first run). */
  since?: number;
  /** The review that triggered the run: its body and inline comments are in, whatever `since` says. */
  reviewId?: number;
}

/**
 * A pull request's review feedback since the last run, for the prompt: review bodies (REST
 * `pulls.listReviews`) and inline review comments (`pulls.listReviewComments`) grouped into
 * threads by `in_reply_to_id`. A thread with a new comment comes whole, older comments too, as
 * the reviewer sees it. Bots' reviews and comments are left out, as on issues
 * (fetch-comments.ts). Counts are capped here, newest kept; texts are capped by buildPrompt.
 */
export async function fetchReviewFeedback(octokit: GitHubClient, query: FeedbackQuery): Promise<Omit<PullRequestFeedback, "linkedIssue">> {
  const params = { owner: query.owner, repo: query.repo, pull_number: query.pullNumber, per_page: 100 };
  const [comments, reviews] = await Promise.all([
    octokit.paginate(octokit.rest.pulls.listReviewComments, params),
    octokit.paginate(octokit.rest.pulls.listReviews, params),
  ]);
  const isNew = (at: string | null | undefined, reviewId: number | null | undefined): boolean =>
    query.since === undefined || (reviewId != null && reviewId === query.reviewId) || (at != null && Date.parse(at) > query.since);

  const newReviews = reviews
    .filter((r) => r.user?.type !== "Bot" && r.state !== "PENDING" && (r.body ?? "").trim() !== "" && isNew(r.submitted_at, r.id))
    .sort((a, b) => Date.parse(a.submitted_at ?? "") - Date.parse(b.submitted_at ?? ""));
  const keptReviews = newReviews.slice(-MAX_REVIEWS);

  // Threads by their first comment's id; GitHub's replies all point at the first comment.
  const byRoot = new Map<number, typeof comments>();
  for (const comment of comments.filter((c) => c.user?.type !== "Bot")) {
    const root = comment.in_reply_to_id ?? comment.id;
    byRoot.set(root, [...(byRoot.get(root) ?? []), comment]);
  }
  const threads = [...byRoot.values()]
    .map((thread) => thread.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at)))
    .filter((thread) => thread.some((c) => isNew(c.created_at, c.pull_request_review_id)))
    .sort((a, b) => Date.parse(a[0]!.created_at) - Date.parse(b[0]!.created_at));
  const keptThreads = threads.slice(-MAX_THREADS);
  let replies = 0;
  const shaped = keptThreads.map((thread) => {
    const kept = thread.length <= MAX_THREAD_COMMENTS ? thread : [thread[0]!, ...thread.slice(-(MAX_THREAD_COMMENTS - 1))];
    replies += thread.length - kept.length;
    const first = thread[0]!;
    const line = first.line ?? first.original_line ?? undefined;
    return {
      path: first.path,
      ...(line != null ? { line } : {}),
      comments: kept.map((c) => ({ author: c.user?.login ?? "ghost", body: c.body, createdAt: c.created_at })),
    };
  });
  return {
    reviews: keptReviews.map((r) => ({
      author: r.user?.login ?? "ghost",
      body: r.body ?? "",
      createdAt: r.submitted_at ?? "",
      state: r.state.toLowerCase(),
    })),
    threads: shaped,
    omitted: { reviews: newReviews.length - keptReviews.length, threads: threads.length - keptThreads.length, replies },
  };
}
