/** The issue a task works on. One live task per issue, so this is also the task's identity. */
export interface IssueRef {
  owner: string;
  repo: string;
  number: number;
}

/** `owner/repo#12`, the form people type (`ccc cancel owner/repo#12`). */
export function formatTaskId(ref: IssueRef): string {
  return `${ref.owner}/${ref.repo}#${ref.number}`;
}

/** GitHub's owner and repository names are case-insensitive: one key per issue, however it is written. */
export function issueKey(ref: IssueRef): string {
  return formatTaskId(ref).toLowerCase();
}

const TASK_ID = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})#(\d{1,10})$/;

export function parseTaskId(text: string): IssueRef | undefined {
  const match = TASK_ID.exec(text.trim());
  if (!match) return undefined;
  return { owner: match[1]!, repo: match[2]!, number: Number(match[3]) };
}

/** An issue as a comment on `here`'s repository names it: `#12` there, `owner/repo#12` elsewhere. */
export function issueMention(taskId: string, here: Pick<IssueRef, "owner" | "repo">): string {
  const ref = parseTaskId(taskId);
  if (!ref) return taskId;
  return ref.owner.toLowerCase() === here.owner.toLowerCase() && ref.repo.toLowerCase() === here.repo.toLowerCase() ? `#${ref.number}` : taskId;
}
